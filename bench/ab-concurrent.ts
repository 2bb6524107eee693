/**
 * `npm run bench:ab`: CPU per request of several targets loaded at the same time, each by its own
 * wrk, so that every target sees the same machine at the same moment. Interleaved rounds
 * (bench:ablate) still let a neighbour's burst land on one variant's slot; here a burst lands on
 * all of them. Meant for before/after comparisons of a change (`--baseline DIR`: targets named
 * `base:<target>` run from another build's dist/bench) and ratios to the bare proxy measured under
 * identical conditions. The targets share the cores, so absolute figures are higher than a
 * target measured alone: quote the ratios.
 *
 *   node dist/bench/ab-concurrent.js [--targets bare-undici,gateway-minimal,base:gateway-minimal]
 *     [--baseline DIR] [--case sse-64|json-64] [--rounds N] [--duration S] [--connections C] [--out DIR]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BENCH_CLIENT_KEY } from "./lib/gateway-configs";
import { median, runLoad } from "./lib/load";
import { killAllSync, stopProcess, which } from "./lib/processes";
import { cpuSeconds, processTree } from "./lib/proc-stats";
import { TARGETS, type TargetName } from "./lib/results";
import { CHAT_PATH, startMock, startTarget, type BenchPaths, type RunningTarget } from "./lib/targets";
import { JSON_BODY, SSE_BODY } from "./run";

interface Contender {
  label: string;
  target: RunningTarget;
  workDir: string;
  cpu: number[];
  rps: number[];
  errors: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const labels = get("--targets", "bare-undici,gateway-minimal,base:gateway-minimal").split(",").filter(Boolean);
  const baseline = argv.includes("--baseline") ? resolve(get("--baseline", "")) : null;
  const caseName = get("--case", "sse-64");
  if (caseName !== "sse-64" && caseName !== "json-64") throw new Error("--case is sse-64 or json-64");
  const rounds = Number(get("--rounds", "5"));
  const duration = Number(get("--duration", "6"));
  const connections = Number(get("--connections", "16"));
  const wrk = which("wrk");
  if (wrk === null) throw new Error("bench:ab needs wrk");
  const root = resolve(__dirname, "../..");
  const work = mkdtempSync(join(tmpdir(), "aigw-ab-"));
  const paths: BenchPaths = { root, dist: __dirname, work };
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${BENCH_CLIENT_KEY}` };
  const body = caseName === "sse-64" ? SSE_BODY : JSON_BODY;
  const mock = await startMock(paths);
  const contenders: Contender[] = [];
  try {
    for (const label of labels) {
      const fromBaseline = label.startsWith("base:");
      const name = (fromBaseline ? label.slice(5) : label) as TargetName;
      if (!TARGETS.includes(name) || name === "direct" || name === "haproxy") throw new Error(`unknown Node target ${name}`);
      if (fromBaseline && baseline === null) throw new Error(`${label} needs --baseline DIR`);
      const where = fromBaseline ? { ...paths, dist: baseline! } : paths;
      const target = await startTarget(name, where, { wrk, haproxy: null, redis: null }, mock.ports, { haproxyThreads: 1, clusterWorkers: 1, gatewayEntry: "bench" }, JSON_BODY, headers);
      const workDir = join(work, String(contenders.length));
      mkdirSync(workDir);
      contenders.push({ label, target, workDir, cpu: [], rps: [], errors: 0 });
    }
    const spec = (c: Contender, durationSec: number) => ({ url: c.target.url + CHAT_PATH, connections, durationSec, body, headers, timeoutSec: 10, workDir: c.workDir });
    await Promise.all(contenders.map((c) => runLoad("wrk", spec(c, 2), wrk))); // warm-up
    for (let round = 0; round < rounds; round++) {
      const before = contenders.map((c) => cpuSeconds(processTree(c.target.proc.pid)));
      const loads = await Promise.all(contenders.map((c) => runLoad("wrk", spec(c, duration), wrk)));
      contenders.forEach((c, i) => {
        c.cpu.push(((cpuSeconds(processTree(c.target.proc.pid)) - before[i]) / loads[i].requests) * 1e6);
        c.rps.push(loads[i].rps);
        c.errors += loads[i].non2xx + loads[i].socketErrors + loads[i].timeouts;
      });
      process.stdout.write(`round ${round + 1}: ${contenders.map((c) => `${c.label} ${c.cpu[round].toFixed(1)} µs/req`).join(", ")}\n`);
    }
  } finally {
    for (const c of contenders) await c.target.stop();
    await stopProcess(mock.proc);
    rmSync(work, { recursive: true, force: true });
  }
  const bare = contenders.find((c) => c.label === "bare-undici") ?? null;
  const lines = [
    `# Concurrent A/B: ${caseName}, ${new Date().toISOString()}`,
    "",
    `${rounds} rounds of ${duration} s (after a 2 s warm-up), every target loaded at once by its own wrk (${connections} connections each); median of the rounds; load average after ${loadavg()[0].toFixed(2)}. CPU is each target's process tree, from /proc.${baseline ? ` Baseline build: ${baseline}.` : ""}`,
    "",
    "| Target | req/s | CPU µs/req | CPU ÷ bare proxy, same round (median) | per round | errors |",
    "|---|---:|---:|---:|---|---:|",
  ];
  for (const c of contenders) {
    const ratios = bare ? c.cpu.map((cpu, i) => cpu / bare.cpu[i]) : [];
    lines.push(`| ${c.label} | ${Math.round(median(c.rps)).toLocaleString("en-US")} | ${median(c.cpu).toFixed(1)} | ${bare ? `${median(ratios).toFixed(2)}×` : ""} | ${ratios.map((r) => r.toFixed(2)).join(", ")} | ${c.errors} |`);
  }
  const md = `${lines.join("\n")}\n`;
  const outDir = resolve(get("--out", join(root, "bench/results")));
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `ab-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}-${caseName}.md`);
  writeFileSync(file, md);
  process.stdout.write(`\n${md}\nWritten: ${file}\n`);
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`ab-concurrent failed: ${(err as Error).stack ?? err}\n`);
    killAllSync();
    process.exit(1);
  });
