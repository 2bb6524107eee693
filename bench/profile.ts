/**
 * `npm run bench:profile`: profiles one Node target while wrk (else autocannon) drives it —
 * warm-up first, then SIGUSR2 starts V8's profiler in the target and a second SIGUSR2 writes
 * it (bench/lib/self-profiler.ts), so start-up and module loading stay out — and prints the
 * functions and packages that cost the most self time. The .cpuprofile stays for flame graphs
 * (Chrome DevTools, speedscope).
 *
 *   node dist/bench/profile.js [--target gateway-full-memory] [--case json-64|sse-64|json-1|sse-1]
 *     [--variant every] [--duration S] [--top N] [--out DIR]
 * `--variant every`: the gateway target with a monthly budget and the response cache added
 * (withBudgetAndCache in bench/lib/gateway-configs.ts), the issue's "every feature".
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BENCH_CLIENT_KEY, withBudgetAndCache } from "./lib/gateway-configs";
import { renderProfile, summariseProfile, totalsOf, type CpuProfile } from "./lib/cpuprofile";
import { runLoad, type LoadSpec } from "./lib/load";
import { killAllSync, sleep, stopProcess, waitUntil, which } from "./lib/processes";
import { cpuSeconds, processTree } from "./lib/proc-stats";
import { TARGETS, type TargetName } from "./lib/results";
import { CHAT_PATH, startMock, startTarget, type BenchPaths } from "./lib/targets";
import { JSON_BODY, SSE_BODY } from "./run";
import { checkBenchNode } from "./lib/node-version";

/** Gateway functions whose total time says where a request's CPU goes. */
const LANDMARKS = [
  "handleProxy",
  "authenticate",
  "admit",
  "estimateRequestTokens",
  "countTextTokens",
  "readBody",
  "parseBody",
  "forward",
  "parseJsonObject",
  "bodyFor",
  "StreamDelivery",
  "push",
  "writeBuffered",
  "finishRecord",
  "requestIdFrom",
  "hashKey",
  "settle",
];

async function main(): Promise<void> {
  checkBenchNode();
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : fallback;
  };
  const target = get("--target", "gateway-full-memory") as TargetName;
  if (!TARGETS.includes(target) || target === "direct" || target === "haproxy") throw new Error(`--target: a Node target (${TARGETS.filter((t) => t !== "direct" && t !== "haproxy").join(", ")})`);
  const caseName = get("--case", "json-64");
  if (!["json-64", "sse-64", "json-1", "sse-1"].includes(caseName)) throw new Error("--case is json-64, sse-64, json-1 or sse-1");
  const connections = caseName.endsWith("-1") ? 1 : 64;
  const variant = get("--variant", "");
  if (variant !== "" && variant !== "every") throw new Error("--variant is every (or absent)");
  const duration = Number(get("--duration", "10"));
  const top = Number(get("--top", "30"));
  const root = resolve(__dirname, "../..");
  const outDir = resolve(get("--out", join(root, "bench/results/profiles")));

  const work = mkdtempSync(join(tmpdir(), "aigw-profile-"));
  const profFile = join(work, "steady.cpuprofile");
  const paths: BenchPaths = { root, dist: __dirname, work };
  const tools = { wrk: which("wrk"), haproxy: which("haproxy"), redis: which("redis-server") };
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${BENCH_CLIENT_KEY}` };
  const mock = await startMock(paths);
  try {
    const running = await startTarget(target, paths, tools, mock.ports, { haproxyThreads: 1, clusterWorkers: 1, gatewayEntry: "bench", env: { BENCH_CPU_PROFILE: profFile }, gatewayOverrides: variant === "every" ? withBudgetAndCache : undefined }, JSON_BODY, headers);
    let requests = 0;
    let cpu = 0;
    try {
      const spec: LoadSpec = { url: running.url + CHAT_PATH, connections, durationSec: 2, body: caseName.startsWith("json") ? JSON_BODY : SSE_BODY, headers, timeoutSec: 10, workDir: work };
      const tool = tools.wrk ? "wrk" : "autocannon";
      await runLoad(tool, spec, tools.wrk); // warm-up, in the profile too (short next to the run)
      const pids = processTree(running.proc.pid);
      process.kill(running.proc.pid, "SIGUSR2");
      await sleep(100);
      const before = cpuSeconds(pids);
      const load = await runLoad(tool, { ...spec, durationSec: duration }, tools.wrk);
      cpu = cpuSeconds(pids) - before;
      process.kill(running.proc.pid, "SIGUSR2");
      await waitUntil("the profile to be written", async () => existsSync(profFile), 15_000, running.proc);
      await sleep(200);
      requests = load.requests;
      process.stdout.write(`${target} ${caseName}: ${Math.round(load.rps)} req/s, ${((cpu / requests) * 1e6).toFixed(1)} µs CPU/req, errors ${load.non2xx + load.socketErrors + load.timeouts} (under the profiler, which slows it)\n`);
    } finally {
      await running.stop();
    }
    const profile = JSON.parse(readFileSync(profFile, "utf8")) as CpuProfile;
    const summary = summariseProfile(profile);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `${stamp}-${target}${variant ? `-${variant}` : ""}-${caseName}`);
    copyFileSync(profFile, `${base}.cpuprofile`);
    rmSync(work, { recursive: true, force: true });
    const landmarks = totalsOf(summary, LANDMARKS).filter((l) => l.totalPct > 0);
    const md = [
      `# CPU profile: ${target}${variant ? ` (+ budget and response cache)` : ""}, ${caseName}, ${duration} s of steady load at ${connections} connection${connections === 1 ? "" : "s"} after a 2 s warm-up (${new Date().toISOString()})`,
      "",
      `${requests} requests measured; ${((cpu / Math.max(1, requests)) * 1e6).toFixed(1)} µs CPU per request under the profiler. Flame graph: open ${base}.cpuprofile in Chrome DevTools (Performance) or https://www.speedscope.app.`,
      "",
      renderProfile(summary, top, "Top functions by self time", requests),
      "## Gateway landmarks (total time, callees included)",
      "",
      "| Function | Total % | Total µs/req | Self % |",
      "|---|---:|---:|---:|",
      ...landmarks.map((l) => `| ${l.name} | ${l.totalPct.toFixed(1)} | ${((l.totalMs * 1000) / Math.max(1, requests)).toFixed(1)} | ${l.selfPct.toFixed(1)} |`),
      "",
    ].join("\n");
    writeFileSync(`${base}.md`, md);
    process.stdout.write(`${md}\nWritten: ${base}.md and ${base}.cpuprofile\n`);
  } finally {
    await stopProcess(mock.proc);
  }
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`profile failed: ${(err as Error).stack ?? err}\n`);
    killAllSync();
    process.exit(1);
  });
