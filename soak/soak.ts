/**
 * The soak run: a real gateway process (the compiled dist/gateway/src/main.js) in front of two
 * real HTTP mock upstreams, a steady mixed load of streaming and non-streaming requests from
 * a fixed number of client loops, and the gateway's own /metrics sampled meanwhile. Reports
 * requests served, errors (every answer is checked), RSS at start and end and its slope, open
 * file descriptors, and the event-loop delay p99. Used by `npm run soak` and the CI test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client, Pool } from "undici";
import { stringify } from "yaml";
import type { GatewayConfigInput } from "../gateway/src/config/schema";
import { NODE_HEAP_FLAGS } from "../gateway/src/heap";
import { MockUpstream } from "../test/helpers/mock-upstream";
import { seededRandom } from "../test/helpers/seeded-random";

export interface SoakOptions {
  /** How long the load runs. */
  durationMs: number;
  /** Client loops, each with one request in flight at a time. */
  concurrency: number;
  /** How often the gateway's /metrics is sampled. */
  sampleEveryMs: number;
  /** The first part of the run, left out of the RSS slope and the fd baseline (JIT, pools filling). */
  warmupMs: number;
  /** Seeds the request mix, so two runs send the same sequence. */
  seed: number;
  /** Progress lines (one per sample); silent by default. */
  log?: (line: string) => void;
}

export interface SoakSample {
  atS: number;
  rssMB: number;
  heapMB: number;
  fds: number;
  /** p99 event-loop delay since the previous sample, ms (as the gateway exports it). */
  eventLoopP99Ms: number;
  served: number;
}

export interface SoakReport {
  durationS: number;
  concurrency: number;
  served: { total: number; chat: number; stream: number; embeddings: number };
  errors: number;
  errorSamples: string[];
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /**
   * `slopeMBPerMin` fits every sample after warm-up; with V8's garbage collection RSS is a
   * sawtooth, so `floorSlopeMBPerMin` fits the lowest sample of each quarter instead: a leak
   * raises the floor, a collection cycle does not.
   */
  rss: { startMB: number; endMB: number; maxMB: number; slopeMBPerMin: number; floorSlopeMBPerMin: number };
  fds: { start: number; afterWarmup: number; end: number; max: number };
  eventLoopDelayP99Ms: { median: number; max: number };
  /** 200s the gateway counted in aigw_requests_total: must equal served. */
  gatewayCounted200: number;
  /** Log lines at error level or above in the gateway's own log. */
  gatewayErrorLines: number;
  gatewayExitCode: number | null;
  samples: SoakSample[];
}

const CLIENT_KEY = "sk-soak-client-key-0001";
const STREAM_TOKENS = 16;

/** The repository root: the nearest parent with a package.json (works from soak/ and dist/soak/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above soak/");
    dir = parent;
  }
  return dir;
}


function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Least-squares slope of y over x. */
export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Least-squares slope of the lowest point of each of `parts` consecutive slices. */
export function floorSlope(points: readonly [number, number][], parts = 4): number {
  const size = Math.floor(points.length / parts);
  if (size < 1) return slope(points);
  const floors: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const slice = points.slice(i * size, i === parts - 1 ? points.length : (i + 1) * size);
    const low = slice.reduce((a, b) => (b[1] < a[1] ? b : a));
    floors.push(low);
  }
  return slope(floors);
}

/** Reads one unlabelled sample, or the sum of a labelled family filtered by `match`. */
export function metricValue(text: string, name: string, match: (labels: string) => boolean = () => true): number {
  let total = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest.startsWith(" ")) return Number(rest.trim());
    if (rest.startsWith("{")) {
      const close = rest.indexOf("}");
      if (match(rest.slice(1, close))) {
        total += Number(rest.slice(close + 1).trim());
        found = true;
      }
    }
  }
  return found ? total : Number.NaN;
}

interface RunningGateway {
  child: ChildProcess;
  url: string;
  logFile: string;
  exited: Promise<number | null>;
}

async function startGateway(config: GatewayConfigInput, dir: string): Promise<RunningGateway> {
  const main = join(repoRoot(), "dist/gateway/src/main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build:gateway first`);
  const configFile = join(dir, "config.yaml");
  const logFile = join(dir, "gateway.log");
  writeFileSync(configFile, stringify(config));
  const fd = openSync(logFile, "w");
  const child = spawn(process.execPath, [...NODE_HEAP_FLAGS, main, "--config", configFile], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  // If the runner itself dies (Ctrl-C, a closed pipe), the gateway must not outlive it.
  const orphanGuard = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", orphanGuard);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      process.off("exit", orphanGuard);
      resolve(code);
    }),
  );
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const match = /"url":"(http:\/\/[^"]+)"/.exec(readFileSync(logFile, "utf8"));
    if (match) return { child, url: match[1], logFile, exited };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`gateway did not start:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
}

type Kind = "chat" | "stream" | "embeddings";

/** One request and the check its answer must pass; returns an error description or null. */
async function one(pool: Pool, kind: Kind, n: number): Promise<string | null> {
  const body =
    kind === "embeddings"
      ? { model: "soak-embed", input: [`soak input ${n}`, "second"] }
      : { model: "soak-chat", messages: [{ role: "user", content: `soak request ${n}` }], max_tokens: 64, stream: kind === "stream" };
  const res = await pool.request({
    method: "POST",
    path: kind === "embeddings" ? "/v1/embeddings" : "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
    body: JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) return `${kind}: ${res.statusCode} ${text.slice(0, 200)}`;
  if (kind === "stream") {
    if (!text.endsWith("data: [DONE]\n\n")) return `stream: no [DONE] at the end`;
    if (text.includes('"error"')) return `stream: error event ${text.slice(-200)}`;
    const words = (text.match(/"content":"[^"]+"/g) ?? []).length;
    if (words !== STREAM_TOKENS) return `stream: ${words} content chunks, expected ${STREAM_TOKENS}`;
    return null;
  }
  const json = JSON.parse(text) as { choices?: { message?: { content?: string } }[]; data?: { embedding?: number[] }[] };
  if (kind === "chat" && !json.choices?.[0]?.message?.content) return `chat: no content in ${text.slice(0, 200)}`;
  if (kind === "embeddings" && !(json.data?.length === 2 && Array.isArray(json.data[0].embedding))) return `embeddings: bad body ${text.slice(0, 200)}`;
  return null;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), "aigw-soak-"));
  const upstreams = [
    await MockUpstream.start("soak-a", { kind: "ok", tokens: STREAM_TOKENS, latencyMs: 2, ttftMs: 5, interTokenMs: 2 }),
    await MockUpstream.start("soak-b", { kind: "ok", tokens: STREAM_TOKENS, latencyMs: 2, ttftMs: 5, interTokenMs: 2 }),
  ];
  let gateway: RunningGateway | null = null;
  let pool: Pool | null = null;
  let scraper: Client | null = null;
  try {
    gateway = await startGateway(
      {
        server: { host: "127.0.0.1", port: 0 },
        logging: { level: "info", accessLog: true },
        healthCheck: { enabled: true, intervalMs: 2_000 },
        keys: [{ name: "soak", key: CLIENT_KEY, limits: { requestsPerMinute: 10_000_000, tokensPerMinute: 1_000_000_000 } }],
        models: [
          { name: "soak-chat", strategy: "least-busy", targets: upstreams.map((u) => ({ name: u.name, baseUrl: u.baseUrl, apiKey: "sk-soak-upstream" })) },
          { name: "soak-embed", targets: [{ name: "soak-a", baseUrl: upstreams[0].baseUrl }] },
        ],
      },
      dir,
    );
    const url = gateway.url;
    pool = new Pool(url, { connections: options.concurrency, pipelining: 1 });
    scraper = new Client(url);
    const scrapeClient = scraper;
    const scrape = async () => {
      const res = await scrapeClient.request({ method: "GET", path: "/metrics", headersTimeout: 10_000, bodyTimeout: 10_000 });
      return res.body.text();
    };

    const served = { total: 0, chat: 0, stream: 0, embeddings: 0 };
    const errorSamples: string[] = [];
    let errors = 0;
    const latencies: number[] = [];
    const samples: SoakSample[] = [];
    const started = performance.now();
    const sample = async () => {
      const text = await scrape();
      const s: SoakSample = {
        atS: Math.round((performance.now() - started) / 100) / 10,
        rssMB: metricValue(text, "process_resident_memory_bytes") / 2 ** 20,
        heapMB: metricValue(text, "nodejs_heap_size_used_bytes") / 2 ** 20,
        fds: metricValue(text, "process_open_fds"),
        eventLoopP99Ms: metricValue(text, "nodejs_eventloop_lag_p99_seconds") * 1000,
        served: served.total,
      };
      samples.push(s);
      log(`t=${s.atS.toFixed(1)}s served=${s.served} rss=${s.rssMB.toFixed(1)}MB heap=${s.heapMB.toFixed(1)}MB fds=${s.fds} eventloop p99=${s.eventLoopP99Ms.toFixed(1)}ms`);
      return text;
    };

    await sample();
    const endAt = started + options.durationMs;
    const random = seededRandom(options.seed);
    let n = 0;
    const loop = async () => {
      while (performance.now() < endAt) {
        const r = random();
        const kind: Kind = r < 0.45 ? "chat" : r < 0.8 ? "stream" : "embeddings";
        const id = n++;
        const t0 = performance.now();
        let failure: string | null;
        try {
          failure = await one(pool!, kind, id);
        } catch (err) {
          failure = `${kind}: ${(err as Error).message}`;
        }
        latencies.push(performance.now() - t0);
        if (failure === null) {
          served.total++;
          served[kind]++;
        } else {
          errors++;
          if (errorSamples.length < 10) errorSamples.push(failure);
        }
      }
    };
    const sampler = (async () => {
      let afterWarmupTaken = false;
      while (performance.now() < endAt) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(options.sampleEveryMs, Math.max(0, endAt - performance.now()))));
        if (performance.now() >= endAt) break;
        await sample();
        if (!afterWarmupTaken && performance.now() - started >= options.warmupMs) afterWarmupTaken = true;
      }
    })();
    await Promise.all([...Array.from({ length: options.concurrency }, loop), sampler]);
    const duringLoad = samples.length;
    const finalText = await sample();

    const loadSamples = samples.slice(1, duringLoad);
    const steady = loadSamples.filter((s) => s.atS * 1000 >= options.warmupMs);
    const steadyOrAll = steady.length >= 2 ? steady : loadSamples;
    const delays = loadSamples.map((s) => s.eventLoopP99Ms).sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    const elapsedS = (performance.now() - started) / 1000;

    const gatewayCounted200 = metricValue(finalText, "aigw_requests_total", (labels) => labels.includes('status="200"'));
    gateway.child.kill("SIGTERM");
    const gatewayExitCode = await gateway.exited;
    const logText = readFileSync(gateway.logFile, "utf8");
    const gatewayErrorLines = logText.split("\n").filter((line) => /"level":"(error|fatal)"/.test(line)).length;
    const first = samples[0];
    const last = samples[samples.length - 1];
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      durationS: round(elapsedS),
      concurrency: options.concurrency,
      served,
      errors,
      errorSamples,
      requestsPerSecond: Math.round(served.total / (options.durationMs / 1000)),
      latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) },
      rss: {
        startMB: round(first.rssMB),
        endMB: round(last.rssMB),
        maxMB: round(Math.max(...samples.map((s) => s.rssMB))),
        slopeMBPerMin: round(slope(steadyOrAll.map((s) => [s.atS / 60, s.rssMB]))),
        floorSlopeMBPerMin: round(floorSlope(steadyOrAll.map((s) => [s.atS / 60, s.rssMB]))),
      },
      fds: { start: first.fds, afterWarmup: steadyOrAll[0]?.fds ?? first.fds, end: last.fds, max: Math.max(...samples.map((s) => s.fds)) },
      eventLoopDelayP99Ms: { median: round(percentile(delays, 50)), max: round(delays.at(-1) ?? 0) },
      gatewayCounted200,
      gatewayErrorLines,
      gatewayExitCode,
      samples,
    };
  } finally {
    await pool?.close();
    await scraper?.close();
    if (gateway && gateway.child.exitCode === null && gateway.child.signalCode === null) {
      gateway.child.kill("SIGKILL");
      await gateway.exited;
    }
    await Promise.all(upstreams.map((u) => u.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The verdict: what must hold for a soak run to pass. */
export function soakProblems(report: SoakReport): string[] {
  const problems: string[] = [];
  if (report.errors > 0) problems.push(`${report.errors} requests failed (first: ${report.errorSamples[0]})`);
  if (report.served.total === 0) problems.push("no request was served");
  if (report.gatewayCounted200 !== report.served.total) problems.push(`the gateway counted ${report.gatewayCounted200} answers 200, the clients ${report.served.total}`);
  if (report.gatewayErrorLines > 0) problems.push(`${report.gatewayErrorLines} error lines in the gateway log`);
  if (report.gatewayExitCode !== 0) problems.push(`the gateway exited with ${report.gatewayExitCode} after SIGTERM`);
  // Sockets and pools are full once warm: under the same load, no more descriptors after that.
  if (report.fds.end > report.fds.afterWarmup + 16) problems.push(`open fds grew from ${report.fds.afterWarmup} to ${report.fds.end} under steady load`);
  return problems;
}

export function formatReport(report: SoakReport): string {
  return [
    `soak: ${report.durationS} s, ${report.concurrency} concurrent clients`,
    `  served   ${report.served.total} (chat ${report.served.chat}, streams ${report.served.stream}, embeddings ${report.served.embeddings}), ${report.requestsPerSecond} req/s`,
    `  errors   ${report.errors}${report.errorSamples.length ? ` (${report.errorSamples.slice(0, 3).join("; ")})` : ""}`,
    `  latency  p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms (client side, whole request)`,
    `  RSS      start ${report.rss.startMB} MB, end ${report.rss.endMB} MB, max ${report.rss.maxMB} MB, slope after warm-up ${report.rss.slopeMBPerMin} MB/min (GC floor ${report.rss.floorSlopeMBPerMin} MB/min)`,
    `  fds      start ${report.fds.start}, after warm-up ${report.fds.afterWarmup}, end ${report.fds.end}, max ${report.fds.max}`,
    `  event loop delay p99: median ${report.eventLoopDelayP99Ms.median} ms, worst ${report.eventLoopDelayP99Ms.max} ms (per sample; includes the 10 ms sampling resolution)`,
    `  gateway  counted ${report.gatewayCounted200} answers 200, ${report.gatewayErrorLines} error log lines, exit code ${report.gatewayExitCode} after SIGTERM`,
  ].join("\n");
}
