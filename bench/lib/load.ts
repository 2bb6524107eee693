/**
 * Load generators behind one interface: wrk (a separate C process; a Lua script sets the POST
 * body and headers and prints its summary as one JSON line) when installed, else autocannon
 * (in the harness process, latencies taken from each response for sub-millisecond percentiles).
 * A tiny undici loop serves request-bounded smoke runs (autocannon cannot stop under a second).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Pool } from "undici";
import { runToCompletion } from "./processes";

export type LoadTool = "wrk" | "autocannon" | "undici";

export interface LoadSpec {
  url: string;
  connections: number;
  /** Whole seconds for wrk; autocannon takes fractions. Ignored when `requests` is set (autocannon only). */
  durationSec: number;
  /** autocannon only: stop after this many requests (smoke runs). */
  requests?: number;
  /**
   * The request body. Every `{n}` in it is replaced by a per-request counter, so that bodies
   * differ from request to request (caches keyed on request text must not turn the benchmark
   * into a cache benchmark); a body without `{n}` is sent as it is.
   */
  body: string;
  headers: Record<string, string>;
  timeoutSec: number;
  /** Directory for the wrk script. */
  workDir: string;
}

export interface LoadResult {
  tool: LoadTool;
  requests: number;
  durationSec: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
  /** Connect, read and write errors. */
  socketErrors: number;
  timeouts: number;
}

const MARK = "WRK_JSON ";

export const COUNTER = "{n}";

/** Splits a body at its `{n}` counters: the parts between them. */
export function bodyParts(body: string): string[] {
  return body.split(COUNTER);
}

/** A function that returns the body with the next counter value in every `{n}`. */
export function bodyMaker(body: string): () => string {
  const parts = bodyParts(body);
  if (parts.length === 1) return () => body;
  let n = 0;
  return () => parts.join(String(++n));
}

/** The wrk Lua script: method, body (counter included) and headers, and a done() that prints the summary as JSON. */
export function wrkScript(body: string, headers: Record<string, string>): string {
  if (body.includes("]==]")) throw new Error("body cannot contain ]==]");
  const parts = bodyParts(body);
  const lines = ['wrk.method = "POST"', `wrk.body = [==[${parts.join("0")}]==]`];
  for (const [name, value] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  if (parts.length > 1) {
    lines.push(`local parts = { ${parts.map((p) => `[==[${p}]==]`).join(", ")} }`, "local counter = 0");
    lines.push(
      "request = function()",
      "  counter = counter + 1",
      "  local n = tostring(counter)",
      "  return wrk.format(nil, nil, nil, table.concat(parts, n))",
      "end",
    );
  }
  lines.push(
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    `  io.write(string.format('${MARK}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f}\\n',`,
    "    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,",
    "    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))",
    "end",
  );
  return `${lines.join("\n")}\n`;
}

/** Reads the JSON line the script prints; throws when wrk printed none (it failed). */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split("\n").find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout.slice(-1000)}`);
  const raw = JSON.parse(line.slice(MARK.length)) as Record<string, number>;
  const durationSec = raw.duration_us / 1e6;
  return {
    tool: "wrk",
    requests: raw.requests,
    durationSec,
    rps: durationSec > 0 ? raw.requests / durationSec : 0,
    p50Ms: raw.p50_us / 1000,
    p90Ms: raw.p90_us / 1000,
    p99Ms: raw.p99_us / 1000,
    maxMs: raw.max_us / 1000,
    non2xx: raw.status,
    socketErrors: raw.connect + raw.read + raw.write,
    timeouts: raw.timeout,
  };
}

export async function runWrk(spec: LoadSpec, wrkPath: string): Promise<LoadResult> {
  const script = join(spec.workDir, `wrk-${process.pid}-${Date.now()}.lua`);
  writeFileSync(script, wrkScript(spec.body, spec.headers));
  const seconds = Math.max(1, Math.round(spec.durationSec));
  const args = ["-t1", `-c${spec.connections}`, `-d${seconds}s`, `--timeout`, `${spec.timeoutSec}s`, "-s", script, spec.url];
  const { stdout, stderr } = await runToCompletion(wrkPath, args, (seconds + spec.timeoutSec + 15) * 1000);
  return parseWrkOutput(stdout + stderr);
}

/** The middle value (the upper one of an even count); the values need not be sorted. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Nearest-rank percentile of ascending-sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

interface AutocannonResult {
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requests: { total: number };
}
interface AutocannonInstance {
  on(event: "response", listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

export function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const autocannon = require("autocannon") as Autocannon;
  const makeBody = bodyMaker(spec.body);
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        ...(spec.requests !== undefined ? { amount: spec.requests } : { duration: spec.durationSec }),
        method: "POST",
        body: makeBody(),
        headers: spec.headers,
        timeout: spec.timeoutSec,
        requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: makeBody() }) }],
      },
      (err, result) => {
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        const durationSec = spec.requests !== undefined ? (performance.now() - startedAt) / 1000 : result.duration;
        const requests = result.requests.total;
        resolve({
          tool: "autocannon",
          requests,
          durationSec,
          rps: durationSec > 0 ? requests / durationSec : 0,
          p50Ms: percentile(latencies, 50),
          p90Ms: percentile(latencies, 90),
          p99Ms: percentile(latencies, 99),
          maxMs: latencies.length ? latencies[latencies.length - 1] : NaN,
          non2xx: result.non2xx,
          socketErrors: Math.max(0, result.errors - result.timeouts),
          timeouts: result.timeouts,
        });
      },
    );
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

/** `connections` loops over one undici Pool until `requests` are sent or the duration is over. */
export async function runUndici(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url);
  const pool = new Pool(target.origin, { connections: spec.connections, pipelining: 1 });
  const latencies: number[] = [];
  let sent = 0;
  let non2xx = 0;
  let socketErrors = 0;
  let timeouts = 0;
  const limit = spec.requests ?? Number.POSITIVE_INFINITY;
  const makeBody = bodyMaker(spec.body);
  const started = performance.now();
  const end = started + spec.durationSec * 1000;
  const loop = async () => {
    while (sent < limit && (spec.requests !== undefined || performance.now() < end)) {
      sent++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: "POST", path: target.pathname, headers: spec.headers, body: makeBody(), headersTimeout: spec.timeoutSec * 1000, bodyTimeout: spec.timeoutSec * 1000 });
        for await (const _chunk of res.body) {
          // drain the whole answer (a stream ends with its last event)
        }
        latencies.push(performance.now() - t0);
        if (res.statusCode < 200 || res.statusCode >= 400) non2xx++;
      } catch (err) {
        if (String((err as { code?: string }).code).includes("TIMEOUT")) timeouts++;
        else socketErrors++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.connections }, loop));
  } finally {
    await pool.destroy();
  }
  const durationSec = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    tool: "undici",
    requests: latencies.length,
    durationSec,
    rps: durationSec > 0 ? latencies.length / durationSec : 0,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : NaN,
    non2xx,
    socketErrors,
    timeouts,
  };
}

export function runLoad(tool: LoadTool, spec: LoadSpec, wrkPath: string | null): Promise<LoadResult> {
  if (tool === "wrk") {
    if (!wrkPath) throw new Error("wrk is not installed");
    return runWrk(spec, wrkPath);
  }
  return tool === "autocannon" ? runAutocannon(spec) : runUndici(spec);
}
