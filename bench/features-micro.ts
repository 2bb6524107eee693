/**
 * `npm run bench:features-micro`: the per-request work of traffic control and the request's
 * charge, in-process, for the benchmark's key with every limit (`full`) and with a monthly
 * budget and the response cache added (`every`, withBudgetAndCache): authenticate, admit (token
 * estimate, worst-case reservation), the cache decision, settle with the upstream's usage (priced
 * settlement), the record's charge and the spend counter — what the `+ budget and response cache`
 * ablation variant adds, without sockets, so the difference is not lost in the machine's noise.
 * Variants run in interleaved rounds; reports the median µs and bytes allocated per request.
 *
 *   node dist/bench/features-micro.js [--rounds 5] [--requests 50000] [--only every] [--sites N] [--out DIR]
 * `--only every`: that variant alone (JSON and SSE). `--sites N`: also the N functions allocating
 * the most per request in each variant (a sampling allocation profile of one more window).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { GCProfiler } from "node:v8";
import { validateConfig } from "../gateway/src/config/validate";
import type { GatewayConfig } from "../gateway/src/config/schema";
import { applyCharge, newRecord } from "../gateway/src/handlers/request-record";
import type { GatewayRuntime } from "../gateway/src/handlers/runtime";
import { GatewayMetrics } from "../gateway/src/metrics/registry";
import { createTrafficControl, noopLogger, type AdmissionRequest, type ClientIdentity, type GatewayTrafficControl } from "../gateway/src/traffic";
import { BENCH_CLIENT_KEY, gatewayConfig, withBudgetAndCache } from "./lib/gateway-configs";
import { median } from "./lib/load";
import { allocationSites } from "./lib/alloc-sites";
import { findRoot } from "./lib/root";
import { MOCK_MODEL } from "./mock-upstream";
import { JSON_BODY, SSE_BODY } from "./run";

interface Variant {
  name: string;
  stream: boolean;
  traffic: GatewayTrafficControl;
  metrics: GatewayMetrics;
  config: GatewayConfig;
}

const HEADERS = { "content-type": "application/json", authorization: `Bearer ${BENCH_CLIENT_KEY}` };
const USAGE = { promptTokens: 31, completionTokens: 64 };
/** The model pool's chain: one array for as long as the config is loaded, as the router's. */
const CHAIN = [{ name: MOCK_MODEL, upstreamModels: [] as string[] }];

/** One request's traffic-control work, as handleProxy and RequestEnd run it (the upstream's usage arrives). */
function oneRequest(v: Variant, raw: Buffer, body: Record<string, unknown>): void {
  const traffic = v.traffic;
  const record = newRecord("127.0.0.1");
  record.identity = traffic.authenticate(HEADERS, "127.0.0.1") as ClientIdentity;
  traffic.precheck?.(record.identity);
  const request: AdmissionRequest = { identity: record.identity, route: "chat.completions", model: MOCK_MODEL, body, stream: v.stream, candidates: CHAIN };
  const admission = traffic.admit(request);
  if (admission instanceof Promise) throw new Error("the memory store admits synchronously");
  if (!v.stream) traffic.cacheLookup(request, raw, HEADERS);
  record.model = MOCK_MODEL;
  record.usage = USAGE;
  record.target = "upstream-1";
  const charged = admission.settle(USAGE, MOCK_MODEL, { servedModel: MOCK_MODEL, deliveredTokens: v.stream ? 64 : null });
  applyCharge({ spend: traffic.spend } as GatewayRuntime, record, charged);
  if (record.costNano !== null) v.metrics.spendFor("bench", "bench", MOCK_MODEL).inc(record.costNano / 1e9);
}

function run(v: Variant, requests: number): { requests: number } {
  const raw = Buffer.from(v.stream ? SSE_BODY : JSON_BODY);
  const bodies = Array.from({ length: 64 }, () => JSON.parse(raw.toString()) as Record<string, unknown>);
  for (let i = 0; i < requests; i++) oneRequest(v, raw, bodies[i & 63]);
  return { requests };
}

function measure(v: Variant, requests: number): { us: number; bytes: number } {
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  // CPU time, not wall time: on a loaded machine the wall clock counts the time others ran.
  const cpu = process.cpuUsage();
  run(v, requests);
  const used = process.cpuUsage(cpu);
  const after = process.memoryUsage().heapUsed;
  const stats = profiler.stop() as unknown as { statistics: { beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }[] };
  let freed = 0;
  for (const gc of stats.statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  return { us: (used.user + used.system) / requests, bytes: (after - before + freed) / requests };
}

async function variant(name: string, config: GatewayConfig, stream: boolean): Promise<Variant> {
  const metrics = new GatewayMetrics({ maxRequestSeconds: 600 });
  const traffic = createTrafficControl(config, { metrics, logger: noopLogger });
  await traffic.ready();
  return { name, stream, traffic, metrics, config };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : fallback);
  const rounds = Number(get("--rounds", "5"));
  const requests = Number(get("--requests", "50000"));
  const full = gatewayConfig({ variant: "full-memory", port: 0, upstreamPorts: [1] });
  const only = get("--only", "");
  const variants: Variant[] = [];
  for (const stream of [false, true]) {
    const kind = stream ? "SSE" : "JSON";
    if (only !== "every") variants.push(await variant(`${kind}, all features`, validateConfig(full), stream));
    variants.push(await variant(`${kind}, + budget and response cache`, validateConfig(withBudgetAndCache(full)), stream));
  }
  const results = new Map<string, { us: number[]; bytes: number[] }>();
  for (const v of variants) measure(v, Math.min(requests, 10_000)); // JIT warm
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const m = measure(v, requests);
      const r = results.get(v.name) ?? { us: [], bytes: [] };
      r.us.push(m.us);
      r.bytes.push(m.bytes);
      results.set(v.name, r);
    }
  }
  const sites = Number(get("--sites", "0"));
  const siteTables: string[] = [];
  if (sites > 0) {
    for (const v of variants) {
      const rows = await allocationSites(() => run(v, requests), sites, findRoot(__dirname));
      siteTables.push(`### ${v.name}`, "", "| Function (self) | bytes/request |", "|---|---:|", ...rows.map((r) => `| \`${r.site}\` | ${Math.round(r.bytes)} |`), "");
    }
  }
  for (const v of variants) await v.traffic.close();
  const lines = [
    `# Traffic control per request, in-process: all features vs + budget and response cache (${new Date().toISOString()})`,
    "",
    `${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; ${rounds} interleaved rounds of ${requests} requests, median (min–max) of this process's CPU time. authenticate, admit, cache decision (JSON), settle with usage, the record's charge, the spend counter.`,
    "",
    "| Variant | µs/request | bytes allocated/request |",
    "|---|---:|---:|",
  ];
  for (const v of variants) {
    const r = results.get(v.name)!;
    lines.push(`| ${v.name} | ${median(r.us).toFixed(2)} (${Math.min(...r.us).toFixed(2)}–${Math.max(...r.us).toFixed(2)}) | ${Math.round(median(r.bytes)).toLocaleString("en-US")} |`);
  }
  const md = `${[...lines, "", ...siteTables].join("\n")}\n`;
  process.stdout.write(md);
  const outDir = get("--out", "");
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `features-micro-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.md`);
    writeFileSync(file, md);
    process.stdout.write(`written: ${file}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
