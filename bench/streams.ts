/**
 * `npm run bench:streams`: long streams at scale, and overload. Streams come from the mock
 * upstream (its own process) through one target process to a raw-socket client (its own
 * process, bench/stream-client.ts) that classifies every connection's end. Two cases:
 *
 *   held      N concurrent streams (default 10,000, or what the file-descriptor limit allows: a
 *             proxied stream holds two sockets), one event a second for 30 s: streams lost,
 *             peak RSS, memory per open stream, CPU per event.
 *   overload  streams with events 25 ms apart, offered at `--overload-factor` (2) times what the
 *             target can relay (its capacity estimated from the held case's CPU per event):
 *             streams shed (503 + Retry-After), completed, lost, cut. Every stream is opened at
 *             the start, so the saturation comes after the arrivals.
 *   sustained the same streams arriving steadily for `--sustained-seconds` (20) at the rate that
 *             keeps `--overload-factor` times the capacity open once it is reached: arrivals go
 *             on while the target is saturated, which is what shedding is for.
 *
 * Targets: direct (the mock itself), bare-undici, gateway-full-memory. Writes
 * bench/results/streams-<date>-<host>.md and .json. Every process is killed by PID at the end.
 *
 *   node dist/bench/streams.js [--streams N] [--rate R] [--events E] [--interval MS]
 *     [--targets direct,bare-undici,gateway-full-memory] [--cases held,overload,sustained]
 *     [--overload-factor F] [--overload-events E] [--sustained-seconds S] [--sustained-rate R] [--out DIR]
 *     [--overload-config JSON]   merged into the gateway targets' server.overload (e.g. '{"maxAcceptDelayMs":0}')
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { findRoot } from "./lib/root";
import type { GatewayConfigInput } from "../gateway/src/config/schema";
import { inFlightCeilingFor, parseOpenFileLimit } from "../gateway/src/http/fd-limit";
import { BENCH_CLIENT_KEY } from "./lib/gateway-configs";
import { killAllSync, sleep, which } from "./lib/processes";
import { renderProfile, summariseProfile, type CpuProfile } from "./lib/cpuprofile";
import { processTree, rssBytes, UsageSampler } from "./lib/proc-stats";
import { lostOf } from "./lib/stream-outcomes";
import { MetricsPeakSampler } from "./lib/metrics-peaks";
import { startMock, startTarget, type BenchPaths, type RunningTarget } from "./lib/targets";
import { renderStreamsMarkdown, type StreamCaseResult } from "./lib/streams-report";
import type { ClientSummary } from "./stream-client";
import { MOCK_MODEL } from "./mock-upstream";

/** `gateway-elu`: gateway-full-memory with `server.overload.maxEventLoopUtilization: 0.98`. */
const STREAM_TARGETS = ["direct", "bare-undici", "gateway-full-memory", "gateway-elu"] as const;
type StreamTarget = (typeof STREAM_TARGETS)[number];
const STREAM_CASES = ["held", "overload", "sustained"] as const;
type StreamCase = (typeof STREAM_CASES)[number];

interface Options {
  streams: number;
  rate: number;
  events: number;
  intervalMs: number;
  targets: StreamTarget[];
  cases: StreamCase[];
  overloadFactor: number;
  overloadIntervalMs: number;
  overloadEvents: number;
  sustainedSeconds: number;
  /** New streams a second in the sustained case; 0: derived from the capacity (a smaller figure for smoke runs). */
  sustainedRate: number;
  outDir: string;
  /** Merged into the gateway targets' `server.overload`. */
  overloadConfig: Record<string, unknown>;
  /** Write a CPU profile of the gateway's held case here (bench/results/profiles by default with --profile). */
  profile: boolean;
}

const ROOT = findRoot(__dirname);

function optionsOf(argv: string[]): Options {
  const get = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const num = (flag: string, fallback: number) => {
    const v = get(flag);
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
    return n;
  };
  const list = <T extends string>(flag: string, allowed: readonly T[]): T[] => {
    const v = get(flag);
    if (v === undefined) return [...allowed];
    const items = v.split(",").filter(Boolean);
    for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown ${item}`);
    return items as T[];
  };
  return {
    streams: num("--streams", 10_000),
    rate: num("--rate", 1_000),
    events: num("--events", 30),
    intervalMs: num("--interval", 1_000),
    targets: list("--targets", STREAM_TARGETS),
    cases: list("--cases", STREAM_CASES),
    overloadFactor: num("--overload-factor", 2),
    overloadIntervalMs: num("--overload-interval", 25),
    overloadEvents: num("--overload-events", 200),
    sustainedSeconds: num("--sustained-seconds", 20),
    sustainedRate: num("--sustained-rate", 0),
    outDir: get("--out") ?? join(ROOT, "bench", "results"),
    profile: argv.includes("--profile"),
    overloadConfig: JSON.parse(get("--overload-config") ?? "{}") as Record<string, unknown>,
  };
}

function runClient(paths: BenchPaths, port: number, streams: number, rate: number, intervalMs: number, events: number, key: string | null): Promise<ClientSummary> {
  const args = [join(paths.dist, "stream-client.js"), "--port", String(port), "--streams", String(streams), "--rate", String(rate), "--interval", String(intervalMs), "--events", String(events), ...(key ? ["--key", key] : [])];
  return new Promise((resolveSummary, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`stream client exited ${code}: ${err.slice(-1000)}`));
      resolveSummary(JSON.parse(out.trim().split("\n").pop() ?? "{}") as ClientSummary);
    });
  });
}

async function measureCase(paths: BenchPaths, target: StreamTarget, caseName: StreamCase, measuredPid: number, mockPid: number, port: number, streams: number, rate: number, intervalMs: number, events: number, note: string, profileFile: string | null = null): Promise<StreamCaseResult> {
  if (profileFile) process.kill(measuredPid, "SIGUSR2");
  const baselineRss = rssBytes(processTree(measuredPid));
  const sampler = new UsageSampler(measuredPid);
  const mockSampler = new UsageSampler(mockPid);
  const gauges = target.startsWith("gateway") ? new MetricsPeakSampler(`http://127.0.0.1:${port}/metrics`) : null;
  const client = await runClient(paths, port, streams, rate, intervalMs, events, target === "direct" ? null : BENCH_CLIENT_KEY);
  const usage = sampler.stop();
  const mockUsage = mockSampler.stop();
  const peaks = gauges ? await gauges.stop() : null;
  if (profileFile) await writeProfileSummary(measuredPid, profileFile, client.events);
  const lost = lostOf(client.counts);
  const result: StreamCaseResult = {
    target,
    case: caseName,
    streams,
    intervalMs,
    eventsPerStream: events,
    offeredEventsPerSec: Math.round((streams * 1_000) / intervalMs),
    client,
    lost,
    cpuSeconds: usage.cpuSeconds,
    mockCpuSeconds: mockUsage.cpuSeconds,
    cpuUsPerEvent: client.events > 0 ? (usage.cpuSeconds * 1e6) / client.events : null,
    baselineRssMb: baselineRss / 2 ** 20,
    peakRssMb: usage.peakRssBytes / 2 ** 20,
    kbPerOpenStream: client.peakOpen > 0 ? (usage.peakRssBytes - baselineRss) / 1024 / client.peakOpen : null,
    note,
    gauges: peaks,
  };
  const c = client.counts;
  process.stdout.write(
    `  ${caseName.padEnd(9)} ${streams} streams: complete ${c.complete}, shed ${c.shed}, refused ${c.refused}, lost ${lost} (cut ${c.cut}, reset ${c.reset}, no-response ${c["no-response"]}, connect ${c["connect-failed"]}, timeout ${c.timeout}); ` +
      `peak open ${client.peakOpen}; first byte p50/p99 ${client.firstByteP50Ms !== null ? (client.firstByteP50Ms / 1000).toFixed(2) : "-"}/${client.firstByteP99Ms !== null ? (client.firstByteP99Ms / 1000).toFixed(2) : "-"} s; stream length p50/p99 ${client.durationP50Ms !== null ? (client.durationP50Ms / 1000).toFixed(1) : "-"}/${client.durationP99Ms !== null ? (client.durationP99Ms / 1000).toFixed(1) : "-"} s; ${result.cpuUsPerEvent?.toFixed(1)} µs CPU/event; RSS ${result.baselineRssMb.toFixed(0)} → ${result.peakRssMb.toFixed(0)} MB (${result.kbPerOpenStream?.toFixed(1)} KB/stream)${peaks ? `; heap used ≤ ${peaks.heapUsedMb?.toFixed(0)} MB of ${peaks.heapTotalMb?.toFixed(0)}, loop lag ≤ ${peaks.eventLoopLagMaxMs?.toFixed(0)} ms, accept delay ≤ ${peaks.acceptDelayMaxMs?.toFixed(0) ?? "-"} ms, shed ${JSON.stringify(peaks.shedByReason ?? {})}` : ""}; ${client.seconds.toFixed(1)} s\n`,
  );
  return result;
}

/**
 * Streams with events `overloadIntervalMs` apart, offered at `overloadFactor` times what the
 * target relays per second of CPU. The capacity is measured by the run itself (events per CPU
 * second at this event rate): a round that offered less than the factor is repeated, larger,
 * up to three rounds or the open-file ceiling; the last round is the result.
 */
async function measureOverload(paths: BenchPaths, target: StreamTarget, pid: number, mockPid: number, port: number, options: Options, ceiling: number, held: StreamCaseResult | null): Promise<StreamCaseResult> {
  const perStreamEventsPerSec = 1_000 / options.overloadIntervalMs;
  let capacity = held?.cpuUsPerEvent ? 1e6 / held.cpuUsPerEvent : 20_000;
  let result: StreamCaseResult | null = null;
  for (let round = 1; round <= 3; round++) {
    const wanted = Math.ceil((options.overloadFactor * 1.1 * capacity) / perStreamEventsPerSec);
    const streams = Math.min(wanted, ceiling);
    result = await measureCase(paths, target, "overload", pid, mockPid, port, streams, Math.max(options.rate, Math.ceil(streams / 2)), options.overloadIntervalMs, options.overloadEvents, "");
    if (result.cpuUsPerEvent) capacity = Math.max(capacity, 1e6 / result.cpuUsPerEvent);
    const factor = result.offeredEventsPerSec / capacity;
    result.note = `offered ${result.offeredEventsPerSec} events/s = ${factor.toFixed(1)}× the ${Math.round(capacity)} events/s the target relays per CPU second (round ${round})${streams < wanted ? `; ${wanted} streams wanted, ${streams} fit the open-file limit` : ""}`;
    if (factor >= options.overloadFactor || streams >= ceiling) break;
  }
  return result!;
}

/**
 * Streams arriving steadily for `sustainedSeconds` at the rate that keeps `overloadFactor` times
 * the target's capacity open once the first ones have run their nominal length: arrivals that
 * keep coming while the target is saturated (the overload case opens everything at once).
 */
async function measureSustained(paths: BenchPaths, target: StreamTarget, pid: number, mockPid: number, port: number, options: Options, capacity: number): Promise<StreamCaseResult> {
  const perStreamEventsPerSec = 1_000 / options.overloadIntervalMs;
  const concurrent = (options.overloadFactor * 1.1 * capacity) / perStreamEventsPerSec;
  const nominalSeconds = ((options.overloadEvents + 3) * options.overloadIntervalMs) / 1_000;
  const rate = options.sustainedRate > 0 ? options.sustainedRate : Math.ceil(concurrent / nominalSeconds);
  const streams = rate * options.sustainedSeconds;
  const result = await measureCase(paths, target, "sustained", pid, mockPid, port, streams, rate, options.overloadIntervalMs, options.overloadEvents, "");
  result.offeredEventsPerSec = Math.round(rate * nominalSeconds * perStreamEventsPerSec);
  result.note = `${rate} new streams a second for ${options.sustainedSeconds} s: ${result.offeredEventsPerSec} events/s once running = ${(result.offeredEventsPerSec / capacity).toFixed(1)}× the ${Math.round(capacity)} events/s the target relays per CPU second`;
  return result;
}

/** Stops the target's profiler, waits for the file, and writes its summary beside it (per event). */
async function writeProfileSummary(pid: number, file: string, events: number): Promise<void> {
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  await sleep(500);
  const summary = summariseProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
  writeFileSync(file.replace(/\.cpuprofile$/, ".md"), `# CPU profile of a held-streams case (µs columns are per streamed event)\n\n${renderProfile(summary, 50, "Top functions by self time", events)}`);
  process.stdout.write(`  profile: ${file.replace(/\.cpuprofile$/, ".md")}\n`);
}

/** Long-stream settings for the gateway: one upstream connection per stream, no pool queue; `elu`: shedding on utilisation too. */
function gatewayOverrides(connections: number, elu: boolean, overload: Record<string, unknown>) {
  return (config: GatewayConfigInput): GatewayConfigInput => ({
    ...config,
    server: { ...config.server, overload: { ...config.server?.overload, ...(elu ? { maxEventLoopUtilization: 0.98 } : {}), ...overload } },
    upstreamDefaults: { ...config.upstreamDefaults, connectionsPerTarget: connections },
  });
}

async function main(): Promise<void> {
  const options = optionsOf(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), "aigw-streams-"));
  const paths: BenchPaths = { root: ROOT, dist: __dirname, work };
  const fdLimit = parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8")) ?? 1_024;
  // What the gateway itself allows (http/fd-limit.ts); the bare proxy gets the same number.
  const proxyCeiling = inFlightCeilingFor(fdLimit) ?? 10_000;
  const load = loadavg();
  process.stdout.write(`Stream benchmark on 127.0.0.1, ${cpus().length} cores, load average ${load[0].toFixed(2)}; open-file limit ${fdLimit} (a proxy holds 2 sockets a stream: at most ${proxyCeiling} streams through one process here). Scratch: ${work}\n`);
  const results: StreamCaseResult[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const profileDir = join(ROOT, "bench", "results", "profiles");
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const profileFile = options.profile ? (target: string) => join(profileDir, `${stamp}-${target}-streams-held.cpuprofile`) : null;
  const mock = await startMock(paths, 3);
  const readyBody = JSON.stringify({ model: MOCK_MODEL, messages: [{ role: "user", content: "ready?" }] });
  const readyHeaders = { authorization: `Bearer ${BENCH_CLIENT_KEY}` };
  try {
    for (const target of options.targets) {
      process.stdout.write(`${target}:\n`);
      let running: RunningTarget | null = null;
      if (target !== "direct") {
        const env = profileFile ? { BENCH_CPU_PROFILE: profileFile(target) } : undefined;
        const variant = target === "gateway-elu" ? "gateway-full-memory" : target;
        running = await startTarget(variant, paths, { wrk: null, haproxy: null, redis: which("redis-server") }, mock.ports, { haproxyThreads: 1, clusterWorkers: 1, gatewayEntry: "bench", upstreamConnections: fdLimit, gatewayOverrides: gatewayOverrides(fdLimit, target === "gateway-elu", options.overloadConfig), env }, readyBody, readyHeaders);
      }
      try {
        const measuredPid = running ? running.proc.pid : mock.proc.pid;
        const port = running ? Number(new URL(running.url).port) : mock.ports[0];
        const heldStreams = target === "direct" ? options.streams : Math.min(options.streams, proxyCeiling);
        const heldNote = heldStreams < options.streams ? `${options.streams} asked; ${heldStreams} fit the open-file limit of ${fdLimit}` : "";
        let held: StreamCaseResult | null = null;
        if (options.cases.includes("held")) {
          held = await measureCase(paths, target, "held", measuredPid, mock.proc.pid, port, heldStreams, options.rate, options.intervalMs, options.events, heldNote, running && profileFile ? profileFile(target) : null);
          results.push(held);
        }
        let overload: StreamCaseResult | null = null;
        if (options.cases.includes("overload") && target !== "direct") {
          overload = await measureOverload(paths, target, measuredPid, mock.proc.pid, port, options, proxyCeiling, held);
          results.push(overload);
        }
        if (options.cases.includes("sustained") && target !== "direct") {
          const perEvent = overload?.cpuUsPerEvent ?? held?.cpuUsPerEvent ?? null;
          results.push(await measureSustained(paths, target, measuredPid, mock.proc.pid, port, options, perEvent ? 1e6 / perEvent : 20_000));
        }
      } finally {
        await running?.stop();
      }
    }
  } finally {
    killAllSync();
  }
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(options.outDir, { recursive: true });
  const base = join(options.outDir, `streams-${date}-${hostname()}`);
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version, loadBefore: load[0], loadAfter: loadavg()[0], fdLimit, date: new Date().toISOString() };
  writeFileSync(`${base}.json`, JSON.stringify({ machine, options, results }, null, 2));
  writeFileSync(`${base}.md`, renderStreamsMarkdown(machine, results));
  process.stdout.write(`Wrote ${base}.md\n`);
  rmSync(work, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((err) => {
    killAllSync();
    process.stderr.write(`stream benchmark failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
