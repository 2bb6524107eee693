/**
 * `npm run bench:ttfb-stages`: where a stream's time to first byte goes, at one connection, for
 * the bare proxy and the gateway, in interleaved rounds. Each target runs with
 * bench/lib/stage-probe.ts preloaded, which timestamps inside the proxy: request → first upstream
 * write ("before upstream"), → first upstream read ("upstream"), → first write to the client
 * ("after upstream": what runs between the upstream's first bytes and the client's). The client's
 * own TTFB (undici, dispatch to first body chunk) is measured alongside. The stage times are the
 * proxy's own clock, so they hold better than end-to-end figures on a loaded machine.
 *
 *   node dist/bench/ttfb-stages.js [--targets bare-undici,gateway-minimal,gateway-full-memory]
 *     [--rounds 3] [--ms 3000] [--case sse|json] [--out DIR]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NODE_HEAP_FLAGS } from "../gateway/src/heap";
import { BENCH_CLIENT_KEY } from "./lib/gateway-configs";
import { stopProcess } from "./lib/processes";
import { CHAT_PATH, startMock, startTarget, type BenchPaths } from "./lib/targets";
import { measureTtfb } from "./lib/ttfb";
import { median } from "./lib/load";
import { JSON_BODY, SSE_BODY } from "./run";
import type { TargetName } from "./lib/results";
import { checkBenchNode } from "./lib/node-version";

const STAGES = ["before upstream", "upstream", "after upstream"] as const;

async function main(): Promise<void> {
  const nodeVersion = checkBenchNode();
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const targets = get("--targets", "bare-undici,gateway-minimal,gateway-full-memory").split(",") as TargetName[];
  const rounds = Number(get("--rounds", "3"));
  const ms = Number(get("--ms", "3000"));
  const body = get("--case", "sse") === "json" ? JSON_BODY : SSE_BODY;
  const root = resolve(__dirname, "../..");
  const work = mkdtempSync(join(tmpdir(), "aigw-ttfb-stages-"));
  const paths: BenchPaths = { root, dist: __dirname, work };
  const headers = { "content-type": "application/json", authorization: `Bearer ${BENCH_CLIENT_KEY}` };
  const probe = join(__dirname, "lib/stage-probe.js");
  const mock = await startMock(paths);
  /** Per target: per round, [client TTFB p50, stage medians…]. */
  const results = new Map<string, number[][]>();
  try {
    for (let round = 0; round < rounds; round++) {
      const direct = await measureTtfb(`http://127.0.0.1:${mock.ports[0]}${CHAT_PATH}`, body, headers, ms / 2, 50);
      push(results, "direct", [direct.p50Ms, NaN, NaN, NaN, NaN, NaN]);
      for (const name of targets) {
        const stageFile = join(work, `${name}-${round}.json`);
        const running = await startTarget(name, paths, { wrk: null, haproxy: null, redis: null }, mock.ports, { haproxyThreads: 1, clusterWorkers: 1, gatewayEntry: "bench", nodeFlags: [...NODE_HEAP_FLAGS, "--require", probe], env: { BENCH_STAGE_FILE: stageFile } }, JSON_BODY, headers);
        try {
          await measureTtfb(running.url + CHAT_PATH, body, headers, 500, 50); // warm-up
          const skip = samplesIn(stageFile).length;
          const ttfb = await measureTtfb(running.url + CHAT_PATH, body, headers, ms, 200);
          await new Promise((r) => setTimeout(r, 700)); // the probe writes every 500 ms
          const rows = samplesIn(stageFile).slice(skip);
          const stages = STAGES.map((_, i) => median(rows.map((r) => r[i])));
          const mean = (i: number) => rows.reduce((sum, r) => sum + r[i], 0) / rows.length;
          push(results, name, [ttfb.p50Ms, ...stages, mean(3), mean(4)]);
          process.stdout.write(`round ${round + 1} ${name}: TTFB p50 ${ttfb.p50Ms.toFixed(3)} ms; ${STAGES.map((s, i) => `${s} ${(stages[i] * 1000).toFixed(1)} µs`).join(", ")} ; ${mean(3).toFixed(2)} client writes, ${mean(4).toFixed(2)} upstream reads a request (${rows.length} probed)\n`);
        } finally {
          await running.stop();
        }
      }
    }
  } finally {
    await stopProcess(mock.proc);
    rmSync(work, { recursive: true, force: true });
  }
  const lines = [
    `# Time to first byte by stage, one connection (${body === SSE_BODY ? "SSE" : "JSON"}), ${new Date().toISOString()}`,
    "",
    `${rounds} interleaved rounds of ${ms / 1000} s per target, median of the rounds' p50s; Node ${nodeVersion}; load average after ${loadavg()[0].toFixed(2)}. Stages are timed inside the proxy (bench/lib/stage-probe.ts): request → first upstream write, → first upstream read, → first client write.`,
    "",
    "| Target | client TTFB p50 ms | + over direct | before upstream µs | upstream µs | after upstream µs | client writes / req | upstream reads / req |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const directP50 = median(results.get("direct")!.map((r) => r[0]));
  for (const [name, rows] of results) {
    const col = (i: number) => median(rows.map((r) => r[i]));
    const stage = (i: number) => (Number.isNaN(col(i)) ? "" : (col(i) * 1000).toFixed(1));
    const count = (i: number) => (Number.isNaN(col(i)) ? "" : col(i).toFixed(2));
    lines.push(`| ${name} | ${col(0).toFixed(3)} | ${name === "direct" ? "" : `+${(col(0) - directP50).toFixed(3)} ms`} | ${stage(1)} | ${stage(2)} | ${stage(3)} | ${count(4)} | ${count(5)} |`);
  }
  const md = `${lines.join("\n")}\n`;
  const outDir = resolve(get("--out", join(root, "bench/results")));
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `ttfb-stages-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.md`);
  writeFileSync(file, md);
  process.stdout.write(`\n${md}\nWritten: ${file}\n`);
}

function samplesIn(file: string): number[][] {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as number[][]) : [];
}

function push(results: Map<string, number[][]>, name: string, row: number[]): void {
  const rows = results.get(name) ?? [];
  rows.push(row);
  results.set(name, rows);
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`ttfb-stages failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
