/**
 * `npm run bench:stream-heap`: what one open stream keeps in memory, by constructor. The target
 * (the gateway with every feature on the memory store, or the bare undici proxy) runs in this
 * process; the mock upstream (events a second apart) and a client holding `--streams` streams
 * open run in processes of their own, so only the target's objects change. Before the streams
 * and once all have started: two full collections, process.memoryUsage(), and a heap snapshot;
 * the difference of the snapshots, grouped by constructor (closures by function name, strings
 * and code by type), divided by the streams, is what each stream retains. Noise from other work
 * on the machine does not move these figures: they are sizes of live objects, not timings.
 *
 *   npm run bench:stream-heap -- [--targets gateway,bare] [--streams 2000] [--prompt-bytes 0]
 *     [--retainers GROUP]... [--depth 5] [--rows 15] [--label NAME] [--out DIR] [--no-snapshots]
 *
 * `--retainers GROUP` lists who holds the objects of one group (e.g. `Buffer`, `(string)`) in the
 * loaded snapshot. Writes bench/results/streams/<date>-stream-heap[-label].md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setFlagsFromString, writeHeapSnapshot } from "node:v8";
import { runInNewContext } from "node:vm";
import { validateConfig } from "../gateway/src/config/validate";
import { startGateway } from "../gateway/src/gateway";
import { startBareProxy } from "./bare-undici-proxy";
import { BENCH_CLIENT_KEY, gatewayConfig } from "./lib/gateway-configs";
import { HeapSnapshot, perStreamDelta, renderDelta, type GroupDelta } from "./lib/heap-snapshot";
import { killAllSync, sleep } from "./lib/processes";
import { findRoot } from "./lib/root";
import { startMock, type BenchPaths } from "./lib/targets";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const TARGETS = ["gateway", "bare"] as const;
type Target = (typeof TARGETS)[number];

interface Options {
  targets: Target[];
  streams: number;
  promptBytes: number;
  retainers: string[];
  /** How many retainers up a chain goes. */
  depth: number;
  /** How many chains a group lists (the most frequent). */
  rows: number;
  snapshots: boolean;
  label: string;
  outDir: string;
}

const ROOT = findRoot(__dirname);

function optionsOf(argv: string[]): Options {
  const get = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const targets = (get("--targets") ?? TARGETS.join(",")).split(",") as Target[];
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`--targets: unknown ${t}`);
  const retainers: string[] = [];
  argv.forEach((a, i) => a === "--retainers" && retainers.push(argv[i + 1]));
  return {
    targets,
    streams: Number(get("--streams") ?? 2_000),
    promptBytes: Number(get("--prompt-bytes") ?? 0),
    retainers,
    depth: Number(get("--depth") ?? 5),
    rows: Number(get("--rows") ?? 15),
    snapshots: !argv.includes("--no-snapshots"),
    label: get("--label") ?? "",
    outDir: get("--out") ?? join(ROOT, "bench", "results", "streams"),
  };
}

interface Memory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** Memory once garbage is collected (twice, a turn apart: weak references and finalizers settle). */
async function settledMemory(): Promise<Memory> {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

/** The held-stream client in its own process; resolves once every stream started (or failed). */
async function holdStreams(paths: BenchPaths, port: number, streams: number, key: string | null, promptBytes: number): Promise<{ child: ChildProcess; started: number; failed: number }> {
  const args = [join(paths.dist, "held-stream-client.js"), "--port", String(port), "--streams", String(streams), "--prompt-bytes", String(promptBytes), ...(key ? ["--key", key] : [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the held streams did not all start within 120 s")), 120_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.split("\n")[0]);
      }
    });
    child.once("exit", (code) => reject(new Error(`held stream client exited ${code}`)));
  });
  const { started, failed } = JSON.parse(line) as { started: number; failed: number };
  return { child, started, failed };
}

async function release(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

interface TargetResult {
  target: Target;
  streams: number;
  started: number;
  failed: number;
  before: Memory;
  after: Memory;
  delta: GroupDelta[] | null;
  retainers: { group: string; rows: [string, number][] }[];
}

/** Starts `target` in this process; returns its port, the key clients send, and how to stop it. */
async function startTarget(target: Target, mockPorts: number[], connections: number): Promise<{ port: number; key: string | null; stop(): Promise<void> }> {
  if (target === "bare") {
    const proxy = await startBareProxy(0, mockPorts.map((p) => `http://127.0.0.1:${p}`), connections);
    return { port: proxy.port, key: null, stop: () => proxy.close() };
  }
  const base = gatewayConfig({ variant: "full-memory", port: 0, upstreamPorts: mockPorts });
  // As the stream benchmark runs it: one upstream connection per stream, no pool queue.
  const config = validateConfig({ ...base, upstreamDefaults: { ...base.upstreamDefaults, connectionsPerTarget: connections } });
  const discard = new Writable({ write: (_c, _e, done) => done() });
  const gateway = await startGateway(config, { logDestination: discard, openFileLimit: null });
  return { port: gateway.port, key: BENCH_CLIENT_KEY, stop: () => gateway.shutdown(0) };
}

async function measure(target: Target, options: Options, paths: BenchPaths, mockPorts: number[]): Promise<TargetResult> {
  const running = await startTarget(target, mockPorts, options.streams + 100);
  try {
    // Warm-up: code compiled, pools and connections made, a client leaving mid-stream. Its streams
    // run as long as the measured ones, so the relay's code is optimised before the baseline (else
    // about 2 KB a stream of the difference was compiled code, not anything a stream holds).
    const warm = await holdStreams(paths, running.port, Math.min(options.streams, 200), running.key, options.promptBytes);
    await sleep(2_500);
    await release(warm.child);
    await sleep(1_000);
    const before = await settledMemory();
    const beforeFile = options.snapshots ? writeHeapSnapshot(join(paths.work, `${target}-before.heapsnapshot`)) : null;
    const held = await holdStreams(paths, running.port, options.streams, running.key, options.promptBytes);
    // A couple of events through every stream, so per-event state is in what is measured.
    await sleep(2_500);
    const after = await settledMemory();
    const afterFile = options.snapshots ? writeHeapSnapshot(join(paths.work, `${target}-after.heapsnapshot`)) : null;
    await release(held.child);
    const result: TargetResult = { target, streams: options.streams, started: held.started, failed: held.failed, before, after, delta: null, retainers: [] };
    if (beforeFile && afterFile) {
      const groupsBefore = new HeapSnapshot(readFileSync(beforeFile, "utf8")).groups();
      rmSync(beforeFile);
      const loaded = new HeapSnapshot(readFileSync(afterFile, "utf8"));
      rmSync(afterFile);
      result.delta = perStreamDelta(groupsBefore, loaded.groups(), Math.max(1, held.started));
      for (const group of options.retainers) {
        const rows = [...loaded.retainerChains(group, options.depth).entries()].sort((a, b) => b[1] - a[1]).slice(0, options.rows);
        result.retainers.push({ group, rows });
      }
    }
    return result;
  } finally {
    await running.stop();
  }
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

function renderResult(r: TargetResult): string {
  const per = (field: keyof Memory) => kb((r.after[field] - r.before[field]) / Math.max(1, r.started));
  const lines = [
    `## ${r.target === "gateway" ? "gateway (every feature, memory store)" : "bare undici proxy (bench/bare-undici-proxy.ts)"}`,
    "",
    `${r.started} of ${r.streams} streams open (${r.failed} failed). Per open stream, after gc(): **heap ${per("heapUsed")} KB**, external ${per("external")} KB (array buffers ${per("arrayBuffers")} KB), RSS ${per("rss")} KB. Heap used ${(r.before.heapUsed / 2 ** 20).toFixed(1)} → ${(r.after.heapUsed / 2 ** 20).toFixed(1)} MB.`,
  ];
  if (r.delta) lines.push("", "Heap snapshot difference, per open stream:", "", renderDelta(r.delta));
  for (const { group, rows } of r.retainers) {
    lines.push("", `Who holds \`${group}\` (loaded snapshot: chains of first retainers, by count):`, "", ...rows.map(([who, n]) => `- ${n} × \`${who}\``));
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const options = optionsOf(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), "aigw-stream-heap-"));
  const paths: BenchPaths = { root: ROOT, dist: __dirname, work };
  const mock = await startMock(paths, 3);
  const results: TargetResult[] = [];
  try {
    for (const target of options.targets) {
      process.stdout.write(`${target}: ${options.streams} held streams…\n`);
      const r = await measure(target, options, paths, mock.ports);
      process.stdout.write(`${renderResult(r)}\n\n`);
      results.push(r);
    }
  } finally {
    killAllSync();
    rmSync(work, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(options.outDir, { recursive: true });
  const file = join(options.outDir, `${date}-stream-heap${options.label ? `-${options.label}` : ""}.md`);
  const head = `# Retained memory per open stream, ${date}${options.label ? ` (${options.label})` : ""}\n\n\`npm run bench:stream-heap -- --streams ${options.streams}${options.promptBytes ? ` --prompt-bytes ${options.promptBytes}` : ""}\`: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, load average ${loadavg()[0].toFixed(2)}. Streams of one event a second from bench/mock-upstream.ts; the target in the measuring process, the client in its own.\n`;
  writeFileSync(file, `${head}\n${results.map(renderResult).join("\n\n")}\n`);
  process.stdout.write(`Wrote ${file}\n`);
}

main().catch((err) => {
  killAllSync();
  process.stderr.write(`stream heap tool failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
