/**
 * `npm run bench:alloc`: bytes of JavaScript heap allocated per proxied request, by target and
 * case, and where they are allocated. The target (the bare undici proxy, the gateway with no
 * features, or with every feature on the memory store) runs in this process; the mock upstream
 * and the load (bench/alloc-client.ts) run in processes of their own, so every byte counted here
 * is the proxy's. Allocation is deterministic where timings are not: the machine's load does not
 * move these figures (only GC timing differs, and the count includes what GC freed).
 *
 * Bytes allocated over a window = heap used at its end − at its start + what every GC in it freed
 * (v8.GCProfiler reports the heap before and after each collection). Buffers' backing stores are
 * outside the V8 heap and not counted (their small JS wrappers are).
 *
 *   npm run bench:alloc -- [--targets bare,minimal,full] [--cases json,sse] [--requests 4000]
 *     [--connections 8] [--sites 20] [--stack 0] [--out DIR]
 *
 * `--sites N` also takes a sampling allocation profile of a second window and lists the N
 * functions allocating the most per request (self bytes). Writes bench/results/alloc-<time>.md.
 * `--stack N` names each site with its N nearest callers (who makes the allocation).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { GCProfiler } from "node:v8";
import { validateConfig } from "../gateway/src/config/validate";
import { startGateway } from "../gateway/src/gateway";
import { LineSink } from "../gateway/src/log-sink";
import { startBareProxy } from "./bare-undici-proxy";
import { BENCH_CLIENT_KEY, gatewayConfig } from "./lib/gateway-configs";
import { killAllSync } from "./lib/processes";
import { findRoot } from "./lib/root";
import { startMock, type BenchPaths } from "./lib/targets";

const TARGETS = ["bare", "minimal", "full"] as const;
type Target = (typeof TARGETS)[number];
const CASES = ["json", "sse"] as const;
type Case = (typeof CASES)[number];

const ROOT = findRoot(__dirname);

interface Running {
  port: number;
  key: string | null;
  stop(): Promise<void>;
}

async function startTarget(target: Target, mockPorts: number[]): Promise<Running> {
  if (target === "bare") {
    const proxy = await startBareProxy(0, mockPorts.map((p) => `http://127.0.0.1:${p}`), 256);
    return { port: proxy.port, key: null, stop: () => proxy.close() };
  }
  const config = validateConfig(gatewayConfig({ variant: target === "minimal" ? "minimal" : "full-memory", port: 0, upstreamPorts: mockPorts }));
  // The production destination (batched synchronous writes), to /dev/null.
  const sink = new LineSink({ fd: openSync("/dev/null", "w") });
  const gateway = await startGateway(config, { logDestination: sink as never, openFileLimit: null });
  return { port: gateway.port, key: target === "full" ? BENCH_CLIENT_KEY : null, stop: () => gateway.shutdown(0) };
}

function load(paths: BenchPaths, running: Running, kase: Case, requests: number, connections: number): Promise<{ requests: number; non2xx: number; socketErrors: number }> {
  const args = [join(paths.dist, "alloc-client.js"), "--port", String(running.port), "--requests", String(requests), "--connections", String(connections), ...(kase === "sse" ? ["--sse"] : []), ...(running.key ? ["--key", running.key] : [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`load client exited ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!));
    });
  });
}

interface Window {
  bytesPerRequest: number;
  cpuUsPerRequest: number;
  gcs: number;
  gcMsPerKRequests: number;
}

async function measuredWindow(run: () => Promise<{ requests: number; non2xx: number; socketErrors: number }>): Promise<Window> {
  const profiler = new GCProfiler();
  profiler.start();
  const usedBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const result = await run();
  const cpu = process.cpuUsage(cpuBefore);
  const usedAfter = process.memoryUsage().heapUsed;
  const stats = profiler.stop() as unknown as { statistics: { cost: number; beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }[] };
  if (result.non2xx + result.socketErrors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.socketErrors} socket errors`);
  let freed = 0;
  let gcUs = 0;
  for (const gc of stats.statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    gcUs += gc.cost;
  }
  const n = result.requests;
  return { bytesPerRequest: (usedAfter - usedBefore + freed) / n, cpuUsPerRequest: (cpu.user + cpu.system) / n, gcs: stats.statistics.length, gcMsPerKRequests: gcUs / n };
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** A sampling allocation profile over one window (collected objects included): self bytes per function. */
async function allocationSites(run: () => Promise<{ requests: number }>, top: number, stackDepth = 0): Promise<{ site: string; bytes: number }[]> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await run();
  const { profile } = (await post("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
  session.disconnect();
  const bySite = new Map<string, number>();
  const name = (f: SamplingNode["callFrame"]) => {
    const file = f.url.replace(/^file:\/\//, "").replace(`${ROOT}/`, "").replace(/^.*node_modules\//, "");
    return `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
  };
  // With --stack N a site is the function and its N nearest callers: who makes the allocation.
  const walk = (node: SamplingNode, callers: string[]) => {
    if (node.selfSize > 0) {
      const site = [name(node.callFrame), ...callers.slice(-stackDepth).reverse()].join(" ← ");
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    const below = stackDepth > 0 ? [...callers, name(node.callFrame)] : callers;
    for (const child of node.children) walk(child, below);
  };
  walk(profile.head, []);
  return [...bySite].map(([site, bytes]) => ({ site, bytes: bytes / result.requests })).sort((a, b) => b.bytes - a.bytes).slice(0, top);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const targets = get("--targets", TARGETS.join(",")).split(",") as Target[];
  const cases = get("--cases", CASES.join(",")).split(",") as Case[];
  const requests = Number(get("--requests", "4000"));
  const connections = Number(get("--connections", "8"));
  const sites = Number(get("--sites", "0"));
  const stackDepth = Number(get("--stack", "0"));
  const outDir = get("--out", join(ROOT, "bench", "results"));
  const work = mkdtempSync(join(tmpdir(), "aigw-alloc-"));
  const paths: BenchPaths = { root: ROOT, dist: __dirname, work };
  const mock = await startMock(paths);
  const lines: string[] = [];
  const siteTables: string[] = [];
  try {
    for (const kase of cases) {
      for (const target of targets) {
        const running = await startTarget(target, mock.ports);
        try {
          const run = () => load(paths, running, kase, requests, connections);
          await load(paths, running, kase, Math.min(2_000, requests), connections); // JIT and pools warm
          const w = await measuredWindow(run);
          const line = `| ${target} | ${kase} | ${Math.round(w.bytesPerRequest).toLocaleString("en-US")} | ${w.cpuUsPerRequest.toFixed(1)} | ${w.gcs} | ${(w.gcMsPerKRequests).toFixed(1)} |`;
          process.stdout.write(`${line}\n`);
          lines.push(line);
          if (sites > 0) {
            const rows = await allocationSites(run, sites, stackDepth);
            siteTables.push(`### ${target}, ${kase}\n\n| Function (self) | bytes/request |\n|---|---:|\n${rows.map((r) => `| \`${r.site}\` | ${Math.round(r.bytes)} |`).join("\n")}\n`);
            process.stdout.write(`${siteTables[siteTables.length - 1]}\n`);
          }
        } finally {
          await running.stop();
        }
      }
    }
  } finally {
    killAllSync();
    rmSync(work, { recursive: true, force: true });
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
  const md = [
    `# Heap allocated per request (${stamp})`,
    "",
    `${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; ${requests} requests over ${connections} connections per window, after ${Math.min(2_000, requests)} warm-up requests.`,
    "CPU µs/request is this process's (the target's) over the window: it moves with machine load, the bytes do not.",
    "",
    "| Target | Case | bytes allocated/request | CPU µs/request | GCs | GC µs/request |",
    "|---|---|---:|---:|---:|---:|",
    ...lines,
    "",
    ...siteTables,
  ].join("\n");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `alloc-${stamp}.md`);
  writeFileSync(file, md);
  process.stdout.write(`\nwritten: ${file}\n`);
}

main().catch((err) => {
  killAllSync();
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
