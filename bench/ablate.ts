/**
 * `npm run bench:ablate`: what each gateway feature costs, by turning them off one at a time
 * from the all-features (memory store) configuration and measuring CPU per request and req/s
 * under the same load. Variants run in interleaved rounds (A B C … A B C …) so that drifting
 * machine load spreads over all of them; the median of the rounds is reported.
 *
 *   node dist/bench/ablate.js [--case json-64|sse-64] [--duration S] [--rounds N] [--only all,every,bare,minimal,heap]
 *     [--baseline DIR] [--out DIR]
 * `--baseline DIR`: another build's dist/bench (e.g. the commit before a change, built in a copy
 * of the tree): each gateway variant also runs from it, in the same rounds, named "… (baseline)",
 * so a before/after comparison holds on a machine whose load swings between runs.
 * The bare undici proxy runs as one more variant, so the issue's ratio (CPU per request ÷ the
 * bare proxy's) comes from interleaved rounds rather than one pass over a noisy machine.
 * The table is printed and written to bench/results/ablation-<time>-<case>.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import type { GatewayConfigInput } from "../gateway/src/config/schema";
import { NODE_HEAP_FLAGS } from "../gateway/src/heap";
import { BENCH_CLIENT_KEY, gatewayConfig, withBudgetAndCache } from "./lib/gateway-configs";
import { median, runLoad, type LoadTool } from "./lib/load";
import { freePort, killAllSync, startProcess, stopProcess, waitUntil, which } from "./lib/processes";
import { UsageSampler } from "./lib/proc-stats";
import { gaugeValue, shedByReason } from "./lib/metrics-peaks";
import { CHAT_PATH, startMock, type BenchPaths } from "./lib/targets";
import { JSON_BODY, SSE_BODY } from "./run";
import { checkBenchNode } from "./lib/node-version";

/** The gateway's sheds by reason and its last accept-delay sample, or "" when its /metrics does not answer. */
async function overloadSummary(url: string): Promise<string> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const delay = gaugeValue(text, "aigw_accept_delay_seconds");
    return `; shed ${JSON.stringify(shedByReason(text))}, accept delay ${delay === null ? "-" : `${(delay * 1_000).toFixed(0)} ms`}`;
  } catch {
    return "";
  }
}

/** Builds the variant from the all-features config (and the minimal one). */
type Patch = (c: GatewayConfigInput, minimal: GatewayConfigInput) => GatewayConfigInput;

const BARE = "bare undici proxy (reference)";

/** `patch` builds a gateway config; the bare proxy (bench/bare-undici-proxy.ts) has none. */
/** `env`/`nodeFlags`: added to the process's (the heap variants: what the gateway's heap policy costs against the bare proxy). */
const VARIANTS: { name: string; patch: Patch | null; dist?: string; env?: NodeJS.ProcessEnv; nodeFlags?: string[] }[] = [
  { name: "all features (memory store)", patch: (c) => c },
  // The issue's "every feature": also a monthly budget and the response cache (bench/lib/gateway-configs.ts).
  { name: "+ budget and response cache", patch: (c) => withBudgetAndCache(c) },
  { name: "− access log", patch: (c) => ({ ...c, logging: { level: "info", accessLog: false } }) },
  { name: "− tokens per minute (no tokenizer)", patch: (c) => ({ ...c, plans: { bench: { requestsPerMinute: 1_000_000_000, concurrent: 1_000_000 } } }) },
  { name: "− concurrency limit", patch: (c) => ({ ...c, plans: { bench: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 2_000_000_000 } } }) },
  { name: "− all limits (key only)", patch: (c) => ({ ...c, plans: { bench: {} } }) },
  { name: "− health checks", patch: (c) => ({ ...c, healthCheck: { enabled: false } }) },
  { name: "minimal (no key, no limits, no access log)", patch: (_c, minimal) => minimal },
  { name: BARE, patch: null },
  // `--only heap`: the gateway's heap growth limit (gateway/src/heap.ts, 30 % by default) off, and the
  // bare proxy under the same limit: how much of the gap is that memory-for-CPU setting.
  { name: "minimal, V8's heap growth (GATEWAY_HEAP_GROWING_PERCENT=0)", patch: (_c, minimal) => minimal, env: { GATEWAY_HEAP_GROWING_PERCENT: "0" } },
  { name: "bare undici proxy, heap growth 30 % (as the gateway)", patch: null, nodeFlags: ["--heap-growing-percent=30"] },
];

async function main(): Promise<void> {
  const nodeVersion = checkBenchNode();
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const caseName = get("--case", "json-64");
  // `--only all,bare,minimal`: a subset, e.g. the three the issue's ratio needs, for more rounds in the time.
  const only = get("--only", "").split(",").filter(Boolean);
  const chosen = VARIANTS.filter((v, i) => only.length === 0 || only.some((o) => (o === "all" && i === 0) || (o === "every" && v.name.startsWith("+ budget")) || (o === "bare" && v.name === BARE) || (o === "heap" && v.name.includes("heap growth")) || (o === "minimal" && v.name.startsWith("minimal"))));
  const baseline = argv.includes("--baseline") ? resolve(get("--baseline", "")) : null;
  const picked = baseline === null ? chosen : chosen.flatMap((v) => (v.patch === null ? [v] : [v, { ...v, name: `${v.name} (baseline)`, dist: baseline }]));
  const duration = Number(get("--duration", "4"));
  const rounds = Number(get("--rounds", "3"));
  const root = resolve(__dirname, "../..");
  const work = mkdtempSync(join(tmpdir(), "aigw-ablate-"));
  const paths: BenchPaths = { root, dist: __dirname, work };
  const wrk = which("wrk");
  const tool: LoadTool = wrk ? "wrk" : "autocannon";
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${BENCH_CLIENT_KEY}` };
  const body = caseName === "sse-64" ? SSE_BODY : JSON_BODY;
  const mock = await startMock(paths);
  const results = new Map<string, { cpu: number[]; rps: number[]; errors: number }>();
  try {
    for (let round = 0; round < rounds; round++) {
      // Each round starts with the next variant: the first of a round measured 15-30 % worse,
      // whichever it was (bench/results/features3-2026-11-30.md), so no variant keeps that seat.
      const order = picked.map((_, i) => picked[(i + round) % picked.length]);
      for (const variant of order) {
        const port = await freePort();
        const base = gatewayConfig({ variant: "full-memory", port, upstreamPorts: mock.ports });
        const minimal = gatewayConfig({ variant: "minimal", port, upstreamPorts: mock.ports });
        const file = join(work, "gateway.yaml");
        if (variant.patch) writeFileSync(file, stringify(variant.patch(base, minimal)));
        const args = variant.patch
          ? [join(variant.dist ?? __dirname, "gateway-main.js"), "--config", file]
          : [join(__dirname, "bare-undici-proxy.js"), "--port", String(port), ...mock.ports.flatMap((p) => ["--upstream", `http://127.0.0.1:${p}`])];
        const proc = startProcess("gateway", process.execPath, [...NODE_HEAP_FLAGS, ...(variant.nodeFlags ?? []), ...args], join(work, "gateway.log"), variant.env);
        try {
          const url = `http://127.0.0.1:${port}`;
          await waitUntil("the gateway", async () => (await fetch(url + CHAT_PATH, { method: "POST", headers, body: JSON_BODY })).status === 200, 20_000, proc);
          const spec = { url: url + CHAT_PATH, connections: 64, durationSec: 2, body, headers, timeoutSec: 10, workDir: work };
          await runLoad(tool, spec, wrk); // warm-up
          const sampler = new UsageSampler(proc.pid);
          const load = await runLoad(tool, { ...spec, durationSec: duration }, wrk);
          const usage = sampler.stop();
          const r = results.get(variant.name) ?? { cpu: [], rps: [], errors: 0 };
          r.cpu.push((usage.cpuSeconds / load.requests) * 1e6);
          r.rps.push(load.rps);
          r.errors += load.non2xx + load.socketErrors + load.timeouts;
          results.set(variant.name, r);
          // A throughput run must not be shed: say so when it was (server.overload), and why.
          const overload = variant.patch ? await overloadSummary(url) : "";
          process.stdout.write(`round ${round + 1} ${variant.name}: ${Math.round(load.rps)} req/s, ${r.cpu[r.cpu.length - 1].toFixed(1)} µs CPU/req, ${load.non2xx} non-2xx${overload}\n`);
        } finally {
          await stopProcess(proc);
        }
      }
    }
  } finally {
    await stopProcess(mock.proc);
    rmSync(work, { recursive: true, force: true });
  }
  const all = results.get(picked[0].name)!;
  const baseCpu = median(all.cpu);
  const bare = results.get(BARE);
  const bareCpu = bare ? median(bare.cpu) : null;
  const lines = [
    `# Feature costs: ${caseName}, ${new Date().toISOString()}`,
    "",
    `${rounds} interleaved rounds (each starting with the next variant) of ${duration} s (after a 2 s warm-up each), median; ${tool}, 64 connections; gateway from bench/gateway-main.ts; Node ${nodeVersion}; load average after ${loadavg()[0].toFixed(2)}. CPU is the gateway process's, from /proc.`,
    "",
    `| Variant | req/s | CPU µs/req | saves vs ${picked[0].name} | CPU ÷ bare proxy | errors |`,
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const variant of picked) {
    const r = results.get(variant.name)!;
    const cpu = median(r.cpu);
    const ratio = bareCpu ? `${(cpu / bareCpu).toFixed(2)}×` : "";
    lines.push(`| ${variant.name} | ${Math.round(median(r.rps)).toLocaleString("en-US")} | ${cpu.toFixed(1)} | ${variant === picked[0] ? "" : `${(baseCpu - cpu).toFixed(1)} µs`} | ${ratio} | ${r.errors} |`);
  }
  if (bare) lines.push("", `Every round, CPU ÷ the bare proxy's in the same round (all features): ${all.cpu.map((c, i) => (c / bare.cpu[i]).toFixed(2)).join(", ")}.`);
  const md = `${lines.join("\n")}\n`;
  const outDir = resolve(get("--out", join(root, "bench/results")));
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `ablation-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}-${caseName}.md`);
  writeFileSync(file, md);
  process.stdout.write(`\n${md}\nWritten: ${file}\n`);
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`ablation failed: ${(err as Error).stack ?? err}\n`);
    killAllSync();
    process.exit(1);
  });
