/**
 * `npm run bench`: the benchmark on 127.0.0.1. Starts the mock upstream, then each target in
 * turn (direct, HAProxy, the bare undici proxy, the gateway minimal / all features on the
 * memory store / on Redis), drives it with the same load (wrk, else autocannon) for JSON and
 * SSE at 64 and 1 connections plus 256 held-open streams, and writes the table with the
 * machine, versions and date to bench/results/. Bounded in time; every process it starts is
 * killed by PID at the end, on error and on exit.
 *
 *   node dist/bench/run.js [--smoke] [--duration S] [--warmup S] [--targets a,b] [--cases a,b]
 *     [--loadgen wrk|autocannon] [--haproxy-threads N] [--cluster-workers N]
 *     [--gateway-entry bench|main] [--out DIR] [--max-seconds S]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { checkBenchNode } from "./lib/node-version";
import { NODE_HEAP_FLAGS } from "../gateway/src/heap";
import { BENCH_CLIENT_KEY } from "./lib/gateway-configs";
import { describeFeatures, probeFeatures } from "./lib/features";
import { runLoad, type LoadResult, type LoadSpec, type LoadTool } from "./lib/load";
import { killAllSync, stopProcess, which, type Managed } from "./lib/processes";
import { peakRssBytes, UsageSampler } from "./lib/proc-stats";
import {
  CASES,
  checkTargets,
  computeRatios,
  DEFAULT_TARGETS,
  renderMarkdown,
  TARGETS,
  type BenchReport,
  type CaseName,
  type CaseResult,
  type Machine,
  type TargetName,
  type TargetResult,
} from "./lib/results";
import { CHAT_PATH, isGateway, startMock, startTarget, type BenchPaths, type RunningTarget, type Tools } from "./lib/targets";
import { measureTtfb } from "./lib/ttfb";
import { findRoot } from "./lib/root";
import { MOCK_MODEL } from "./mock-upstream";

export interface RunOptions {
  smoke: boolean;
  durationSec: number;
  warmupSec: number;
  heldDurationSec: number;
  heldIntervalMs: number;
  ttfbMs: number;
  targets: TargetName[];
  cases: CaseName[];
  loadgen: LoadTool;
  haproxyThreads: number;
  clusterWorkers: number;
  gatewayEntry: "bench" | "main";
  outDir: string;
  maxSeconds: number;
}

const ROOT = findRoot(__dirname);

/** `{n}` becomes a per-request counter (bench/lib/load.ts): no two requests carry the same text. */
const MESSAGES = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Say hello to request {n} of the benchmark in one short sentence." },
];
export const JSON_BODY = JSON.stringify({ model: MOCK_MODEL, messages: MESSAGES, max_tokens: 64 });
export const SSE_BODY = JSON.stringify({ model: MOCK_MODEL, messages: MESSAGES, max_tokens: 64, stream: true });
const heldBody = (intervalMs: number) => JSON.stringify({ model: MOCK_MODEL, messages: MESSAGES, max_tokens: 64, stream: true, mock_interval_ms: intervalMs });
/** Every target gets the same request bytes, key included. */
const HEADERS = { "Content-Type": "application/json", Authorization: `Bearer ${BENCH_CLIENT_KEY}` };

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown "${item}" (one of ${allowed.join(", ")})`);
  return items as T[];
}

export function parseOptions(argv: string[], hasWrk: boolean): RunOptions {
  const smoke = argv.includes("--smoke");
  const get = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const num = (flag: string, fallback: number): number => {
    const v = get(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
    return n;
  };
  const loadgen = (get("--loadgen") ?? (smoke ? "undici" : hasWrk ? "wrk" : "autocannon")) as LoadTool;
  if (loadgen !== "wrk" && loadgen !== "autocannon" && loadgen !== "undici") throw new Error("--loadgen is wrk, autocannon or undici");
  const entry = get("--gateway-entry") ?? "bench";
  if (entry !== "bench" && entry !== "main") throw new Error("--gateway-entry is bench or main");
  return {
    smoke,
    durationSec: num("--duration", smoke ? 1 : 8),
    warmupSec: num("--warmup", smoke ? 0 : 2),
    heldDurationSec: num("--held-duration", smoke ? 1 : 5),
    heldIntervalMs: num("--held-interval", smoke ? 5 : 25),
    ttfbMs: num("--ttfb-ms", smoke ? 0 : 2_000),
    targets: get("--targets") ? list(get("--targets")!, TARGETS, "--targets") : [...DEFAULT_TARGETS],
    cases: get("--cases") ? list(get("--cases")!, CASES, "--cases") : [...CASES],
    loadgen,
    haproxyThreads: num("--haproxy-threads", 1),
    clusterWorkers: num("--cluster-workers", 2),
    gatewayEntry: entry,
    outDir: resolve(get("--out") ?? join(ROOT, "bench/results", smoke ? "smoke" : "")),
    maxSeconds: num("--max-seconds", smoke ? 120 : 720),
  };
}

function firstLine(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 5_000 });
    return out.split("\n")[0].trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    const text = `${e.stdout ?? ""}${e.stderr ?? ""}`.split("\n")[0].trim();
    return text || "unknown";
  }
}

function versionsOf(tools: Tools): Record<string, string> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "missing";
    }
  };
  const versions: Record<string, string> = { node: checkBenchNode(), undici: pkg("undici"), autocannon: pkg("autocannon") };
  versions.haproxy = tools.haproxy ? firstLine(tools.haproxy, ["-v"]).replace(/^HAProxy version /, "").split(" ")[0] : "not installed";
  versions.wrk = tools.wrk ? firstLine(tools.wrk, ["-v"]).replace(/^wrk /, "").split(" ")[0] : "not installed";
  versions.redis = tools.redis ? (/v=(\S+)/.exec(firstLine(tools.redis, ["--version"]))?.[1] ?? "unknown") : "not installed";
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "gateway/src"], { cwd: ROOT, encoding: "utf8" }).trim();
    versions.commit = dirty ? `${commit} (gateway/src has uncommitted changes)` : commit;
  } catch {
    versions.commit = "unknown";
  }
  return versions;
}

function machineOf(): Machine {
  const list = cpus();
  return { hostname: hostname(), cpus: list.length, cpuModel: list[0]?.model ?? "unknown", memoryGb: totalmem() / 2 ** 30, kernel: release() };
}

interface Context {
  options: RunOptions;
  paths: BenchPaths;
  tools: Tools;
  mock: Managed;
  mockPorts: number[];
  deadline: number;
  /** Load generators a smoke run has exercised once already. */
  smokeChecked: Set<LoadTool>;
  log(line: string): void;
}

function specFor(ctx: Context, url: string, name: CaseName | "warmup-json" | "warmup-sse"): { spec: LoadSpec; tool: LoadTool } {
  const o = ctx.options;
  const base = { url: url + CHAT_PATH, headers: HEADERS, timeoutSec: 10, workDir: ctx.paths.work };
  // Smoke runs: request-bounded undici loops, except one wrk case and one autocannon case so
  // both real load generators and their parsers are exercised.
  const smokeRequests = (connections: number) => (o.smoke && o.loadgen === "undici" ? { requests: Math.max(20, connections * 4) } : {});
  let tool = o.loadgen;
  let spec: LoadSpec;
  switch (name) {
    case "warmup-json":
      spec = { ...base, connections: 64, durationSec: o.warmupSec, body: JSON_BODY };
      break;
    case "warmup-sse":
      spec = { ...base, connections: 64, durationSec: Math.max(1, o.warmupSec / 2), body: SSE_BODY };
      break;
    case "json-64":
    case "sse-64":
      spec = { ...base, connections: 64, durationSec: o.durationSec, body: name === "json-64" ? JSON_BODY : SSE_BODY, ...smokeRequests(64) };
      break;
    case "json-1":
    case "sse-1":
      spec = { ...base, connections: 1, durationSec: o.durationSec, body: name === "json-1" ? JSON_BODY : SSE_BODY, ...smokeRequests(1) };
      break;
    case "sse-256-held":
      spec = { ...base, connections: 256, durationSec: o.heldDurationSec, body: heldBody(o.heldIntervalMs), ...(o.smoke && o.loadgen === "undici" ? { requests: 256 } : {}) };
      break;
  }
  if (o.smoke && o.loadgen === "undici") {
    if (name === "json-64" && ctx.tools.wrk && !ctx.smokeChecked.has("wrk")) {
      ctx.smokeChecked.add("wrk");
      tool = "wrk";
      spec = { ...spec, requests: undefined, durationSec: 1 };
    } else if (name === "json-1" && !ctx.smokeChecked.has("autocannon")) {
      ctx.smokeChecked.add("autocannon");
      tool = "autocannon";
      spec = { ...spec, requests: undefined, durationSec: 1 };
    }
  }
  return { spec, tool };
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ").slice(0, 300);
}

async function runCase(ctx: Context, target: { name: TargetName; url: string; pid: number; proc: Managed | null; redis: Managed | null }, name: CaseName): Promise<CaseResult> {
  const result: CaseResult = { case: name, load: null, ttfb: null, cpuUsPerRequest: NaN, mockCpuUsPerRequest: NaN, redisCpuUsPerRequest: null, peakRssMb: NaN, errors: 0, failure: null };
  if (Date.now() > ctx.deadline) {
    result.failure = "skipped: the run's time budget (--max-seconds) is spent";
    return result;
  }
  const { spec, tool } = specFor(ctx, target.url, name);
  const sampler = new UsageSampler(target.pid);
  const mockSampler = target.pid === ctx.mock.pid ? null : new UsageSampler(ctx.mock.pid);
  const redisSampler = target.redis ? new UsageSampler(target.redis.pid) : null;
  let load: LoadResult | null = null;
  try {
    load = await runLoad(tool, spec, ctx.tools.wrk);
  } catch (err) {
    result.failure = (err as Error).message.split("\n")[0];
  }
  const usage = sampler.stop();
  if (target.proc && target.proc.exited !== null) result.failure = `${target.name} exited (${target.proc.exited}) during the case: ${lastLines(target.proc.output())}`;
  const mockUsage = mockSampler?.stop() ?? usage;
  const redisUsage = redisSampler?.stop() ?? null;
  result.peakRssMb = usage.peakRssBytes / 2 ** 20;
  if (load && !result.failure) {
    result.load = load;
    const perRequest = (cpu: number) => (load!.requests > 0 ? (cpu / load!.requests) * 1e6 : NaN);
    result.cpuUsPerRequest = perRequest(usage.cpuSeconds);
    result.mockCpuUsPerRequest = perRequest(mockUsage.cpuSeconds);
    result.redisCpuUsPerRequest = redisUsage ? perRequest(redisUsage.cpuSeconds) : null;
    result.errors = load.non2xx + load.socketErrors + load.timeouts;
  }
  if (name === "sse-1" && !result.failure) {
    try {
      result.ttfb = await measureTtfb(target.url + CHAT_PATH, SSE_BODY, HEADERS, ctx.options.ttfbMs, ctx.options.smoke ? 5 : 50);
      result.errors += result.ttfb.errors;
    } catch (err) {
      result.failure = `TTFB: ${(err as Error).message.split("\n")[0]}`;
    }
  }
  const l = result.load;
  ctx.log(
    `  ${name.padEnd(13)} ${l ? `${Math.round(l.rps).toString().padStart(7)} req/s  p50 ${l.p50Ms.toFixed(3)} ms  p99 ${l.p99Ms.toFixed(3)} ms  CPU ${result.cpuUsPerRequest.toFixed(1)} µs/req  RSS ${result.peakRssMb.toFixed(0)} MB  errors ${result.errors}${result.ttfb ? `  TTFB p50 ${result.ttfb.p50Ms.toFixed(3)} ms` : ""} (${l.tool})` : `failed: ${result.failure}`}`,
  );
  return result;
}

async function runTarget(ctx: Context, name: TargetName): Promise<TargetResult> {
  const out: TargetResult = { name, description: "", features: null, featureWarnings: [], cases: [], peakRssMb: NaN, skipped: null };
  if (Date.now() > ctx.deadline) {
    out.skipped = "the run's time budget (--max-seconds) is spent";
    return out;
  }
  if (name === "haproxy" && !ctx.tools.haproxy) {
    out.skipped = "haproxy is not installed";
    return out;
  }
  if (name === "gateway-full-redis" && !ctx.tools.redis) {
    out.skipped = "redis-server is not installed";
    return out;
  }
  ctx.log(`${name}:`);
  let running: RunningTarget | null = null;
  try {
    let url: string;
    let pid: number;
    if (name === "direct") {
      url = `http://127.0.0.1:${ctx.mockPorts[0]}`;
      pid = ctx.mock.pid;
      out.description = "the mock upstream itself (one of its three ports), no proxy";
    } else {
      running = await startTarget(name, ctx.paths, ctx.tools, ctx.mockPorts, ctx.options, JSON_BODY, HEADERS);
      url = running.url;
      pid = running.proc.pid;
      out.description = running.description;
      if (isGateway(name)) {
        const f = await probeFeatures(url, CHAT_PATH, JSON_BODY, { Authorization: HEADERS.Authorization }, running.logFile, running.redisPort);
        out.features = describeFeatures(f, running.store);
        if (running.store && !f.authEnforced) out.featureWarnings.push("auth not enforced: the configured client keys have no effect in this build");
        if (running.store && !f.limitHeaders) out.featureWarnings.push("no x-ratelimit headers: rate limits not active in this build");
        if (running.store === "redis" && !(f.redis && f.redis.commands > 0)) out.featureWarnings.push("Redis processed no command for a keyed request: the Redis store is not used");
        if (!f.metrics) out.featureWarnings.push("/metrics does not count requests");
        if (running.store && !f.accessLog) out.featureWarnings.push("no access-log lines written");
        ctx.log(`  features: ${out.features}`);
      }
    }
    if (ctx.options.warmupSec > 0) {
      for (const w of ["warmup-json", "warmup-sse"] as const) {
        const { spec, tool } = specFor(ctx, url, w);
        await runLoad(tool, spec, ctx.tools.wrk).catch((err: Error) => ctx.log(`  warm-up failed: ${err.message.split("\n")[0]}`));
      }
    }
    for (const c of ctx.options.cases) out.cases.push(await runCase(ctx, { name, url, pid, proc: running?.proc ?? null, redis: running?.redis ?? null }, c));
    out.peakRssMb = peakRssBytes([pid]) / 2 ** 20;
    if (running && isGateway(name)) {
      const errors = running.proc.output().split("\n").filter((l) => l.includes('"level":"error"'));
      if (errors.length > 0) out.featureWarnings.push(`the gateway logged ${errors.length} error line(s), e.g. ${errors[0].slice(0, 240)}`);
    }
  } catch (err) {
    out.skipped = `failed to start: ${(err as Error).message.split("\n")[0]}`;
    ctx.log(`  ${out.skipped}`);
  } finally {
    if (running) await running.stop();
  }
  return out;
}

function resultsPath(dir: string, date: Date, host: string): string {
  const day = date.toISOString().slice(0, 10);
  let name = `${day}-${host}`;
  for (let n = 2; existsSync(join(dir, `${name}.md`)); n++) name = `${day}-${host}-${n}`;
  return join(dir, name);
}

function estimateSeconds(o: RunOptions): number {
  const perCase = o.cases.reduce((s, c) => s + (c === "sse-256-held" ? o.heldDurationSec : o.durationSec) + (c === "sse-1" ? o.ttfbMs / 1000 : 0) + 0.3, 0);
  const warmup = o.warmupSec > 0 ? o.warmupSec + Math.max(1, o.warmupSec / 2) : 0;
  return o.targets.length * (perCase + warmup + 1.5);
}

export async function runBenchmark(options: RunOptions, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<{ report: BenchReport; files: { md: string; json: string } }> {
  const tools: Tools = { wrk: which("wrk"), haproxy: which("haproxy"), redis: which("redis-server") };
  if (options.loadgen === "wrk" && !tools.wrk) throw new Error("wrk is not installed: use --loadgen autocannon");
  const work = mkdtempSync(join(tmpdir(), "aigw-bench-"));
  const paths: BenchPaths = { root: ROOT, dist: __dirname, work };
  const started = new Date();
  const machine = machineOf();
  const loadBefore = loadavg()[0];
  if (loadBefore > 0.5 * machine.cpus) log(`WARNING: load average ${loadBefore.toFixed(2)} before the run: other work competes for the CPU; figures will be low and noisy.`);
  log(`Benchmark on 127.0.0.1, ${machine.cpus} × ${machine.cpuModel}: load generator (${options.loadgen}, one thread), mock upstream and the proxy under test share these cores, so figures are noisy; compare ratios from one run.`);
  log(`Targets: ${options.targets.join(", ")}; about ${Math.ceil(estimateSeconds(options))} s (bounded by --max-seconds ${options.maxSeconds}). Scratch: ${work}`);
  let mock: { proc: Managed; ports: number[] } | null = null;
  const targets: TargetResult[] = [];
  try {
    mock = await startMock(paths);
    const ctx: Context = { options, paths, tools, mock: mock.proc, mockPorts: mock.ports, deadline: Date.now() + options.maxSeconds * 1000, smokeChecked: new Set(), log };
    for (const name of options.targets) targets.push(await runTarget(ctx, name));
  } finally {
    if (mock) await stopProcess(mock.proc);
  }
  const ratios = computeRatios(targets);
  const checks = checkTargets(targets);
  const loadAfter = loadavg()[0];
  const notes = [
    `Load average (1 min) before the run ${loadBefore.toFixed(2)}, after ${loadAfter.toFixed(2)} (the run itself adds about 2).`,
    `All processes on one machine: the load generator (${options.loadgen}, 1 thread), the mock upstream (one Node process, three ports) and the proxy under test share ${machine.cpus} cores; other work on the machine adds noise. Compare ratios from the same run, not figures across runs.`,
    "CPU µs/req: user+system CPU of the process under test (its whole process tree) from /proc/PID/stat over the case, divided by the requests completed; for direct it is the mock's. Resolution: one clock tick (10 ms) over the case.",
    "Peak RSS: the highest VmRSS sampled every 100 ms during the case (summed over the process tree); the process runs every case in order, so it carries earlier cases' heap.",
    "Added p50: the target's p50 minus direct's p50 at one connection (JSON); for SSE, the TTFB p50 difference (undici client, one stream at a time, dispatch to first body chunk).",
    `SSE: ${"the mock writes 24 events (role, 20 content chunks, finish, usage) and [DONE], one write each"}; req/s counts whole streams. Held-open streams: the same events ${options.heldIntervalMs} ms apart, 256 connections.`,
    "Clients send no stream_options, as the OpenAI SDKs do by default: the gateway asks the upstream for usage (re-serialising the body) and strips the usage chunk from the client's stream.",
    "Every request carries a distinct user message (a counter in the text), so caches keyed on request text (token counts, responses) see real-traffic misses, not one repeated prompt.",
  ];
  if (options.smoke) notes.unshift("SMOKE RUN: request-bounded undici loops (one wrk and one autocannon case), no warm-up, a cold JIT: it checks that the harness works; its figures mean nothing.");
  const report: BenchReport = {
    date: started.toISOString(),
    smoke: options.smoke,
    machine,
    versions: versionsOf(tools),
    settings: {
      loadgen: options.loadgen,
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      heldDurationSec: options.heldDurationSec,
      heldIntervalMs: options.heldIntervalMs,
      ttfbMs: options.ttfbMs,
      haproxyThreads: options.haproxyThreads,
      gatewayEntry: options.gatewayEntry,
      nodeFlags: NODE_HEAP_FLAGS.join(" "),
      ...(options.targets.includes("gateway-cluster") ? { clusterWorkers: options.clusterWorkers } : {}),
      elapsedSec: Math.round((Date.now() - started.getTime()) / 1000),
    },
    targets,
    ratios,
    checks,
    notes,
  };
  mkdirSync(options.outDir, { recursive: true });
  const base = resultsPath(options.outDir, started, machine.hostname);
  const files = { md: `${base}.md`, json: `${base}.json` };
  const markdown = renderMarkdown(report);
  writeFileSync(files.md, markdown);
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  rmSync(work, { recursive: true, force: true });
  log("");
  log(markdown);
  log(`Written: ${files.md} and ${files.json}`);
  return { report, files };
}

if (require.main === module) {
  let options: RunOptions;
  try {
    options = parseOptions(process.argv.slice(2), which("wrk") !== null);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  runBenchmark(options)
    .then(() => process.exit(0))
    .catch((err) => {
      process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
      killAllSync();
      process.exit(1);
    });
}
