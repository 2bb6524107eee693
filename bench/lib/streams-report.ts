/** The stream benchmark's results and their Markdown table, with the ratios to the bare proxy. */
import type { ClientSummary } from "../stream-client";
import type { MetricPeaks } from "./metrics-peaks";

export interface StreamCaseResult {
  target: string;
  case: "held" | "overload" | "sustained";
  streams: number;
  intervalMs: number;
  eventsPerStream: number;
  offeredEventsPerSec: number;
  client: ClientSummary;
  /** Streams that ended in no answer, a reset, a cut or a timeout. */
  lost: number;
  cpuSeconds: number;
  mockCpuSeconds: number;
  cpuUsPerEvent: number | null;
  baselineRssMb: number;
  peakRssMb: number;
  kbPerOpenStream: number | null;
  note: string;
  /** The gateway's own heap and event-loop gauges at their peak (gateway targets only). */
  gauges: MetricPeaks | null;
}

export interface StreamMachine {
  cores: number;
  cpu: string;
  node: string;
  loadBefore: number;
  loadAfter: number;
  fdLimit: number;
  date: string;
}

const fixed = (n: number | null, digits = 1) => (n === null ? "" : n.toFixed(digits));
const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? "–" : (ms / 1000).toFixed(1));

/** Gateway ÷ bare proxy for one case, from the same run; null when either is missing. */
export function streamRatio(results: readonly StreamCaseResult[], caseName: StreamCaseResult["case"], pick: (r: StreamCaseResult) => number | null): number | null {
  // The last row of a case: the overload case's final round.
  const gateway = results.filter((r) => r.target === "gateway-full-memory" && r.case === caseName).at(-1);
  const bare = results.filter((r) => r.target === "bare-undici" && r.case === caseName).at(-1);
  const g = gateway ? pick(gateway) : null;
  const b = bare ? pick(bare) : null;
  return g !== null && b !== null && b > 0 ? g / b : null;
}

export function renderStreamsMarkdown(machine: StreamMachine, results: readonly StreamCaseResult[]): string {
  const lines = [
    `# Stream benchmark, ${machine.date.slice(0, 10)}`,
    "",
    `${machine.cores} × ${machine.cpu}, Node ${machine.node}, load average ${machine.loadBefore.toFixed(2)} before and ${machine.loadAfter.toFixed(2)} after; open-file limit ${machine.fdLimit}.`,
    "",
    "| Target | Case | streams | events apart | complete | shed (503) | other refusals | lost | peak open | stream length p50 / p99 s [first byte p50 / p99 s] (nominal) | CPU µs/event | RSS before → peak MB | KB per open stream | heap used / total MB, loop lag ms, accept delay ms (peaks) | note |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of results) {
    const c = r.client.counts;
    const lostDetail = r.lost > 0 ? `${r.lost} (cut ${c.cut}, reset ${c.reset}, no answer ${c["no-response"]}, connect ${c["connect-failed"]}, timeout ${c.timeout})` : "0";
    lines.push(`| ${r.target} | ${r.case} | ${r.streams} | ${r.intervalMs} ms | ${c.complete} | ${c.shed} | ${c.refused} | ${lostDetail} | ${r.client.peakOpen} | ${seconds(r.client.durationP50Ms)} / ${seconds(r.client.durationP99Ms)} [${seconds(r.client.firstByteP50Ms ?? null)} / ${seconds(r.client.firstByteP99Ms ?? null)}] (${((r.intervalMs * (r.eventsPerStream + 3)) / 1000).toFixed(1)}) | ${fixed(r.cpuUsPerEvent)} | ${r.baselineRssMb.toFixed(0)} → ${r.peakRssMb.toFixed(0)} | ${fixed(r.kbPerOpenStream)} | ${r.gauges ? `${fixed(r.gauges.heapUsedMb, 0)} / ${fixed(r.gauges.heapTotalMb, 0)}, ${fixed(r.gauges.eventLoopLagMaxMs, 0)}, ${fixed(r.gauges.acceptDelayMaxMs ?? null, 0)}` : ""} | ${r.note}${r.gauges?.shedByReason && Object.keys(r.gauges.shedByReason).length > 0 ? `; shed by reason (gateway's count): ${Object.entries(r.gauges.shedByReason).map(([k, v]) => `${k} ${v}`).join(", ")}` : ""} |`);
  }
  const cpu = streamRatio(results, "held", (r) => r.cpuUsPerEvent);
  const memory = streamRatio(results, "held", (r) => r.kbPerOpenStream);
  lines.push("", "Gateway ÷ bare undici proxy, same run:", "");
  const cpuOverload = streamRatio(results, "overload", (r) => r.cpuUsPerEvent);
  const eventsOf = (caseName: StreamCaseResult["case"]) => (results.find((r) => r.case === caseName)?.eventsPerStream ?? 0) + 3;
  lines.push(`- CPU per streamed event (held, ${eventsOf("held")} events a stream: per-stream setup weighs in): ${cpu === null ? "n/a" : `${cpu.toFixed(2)}×`} (goal ≤ 1.5×)`);
  lines.push(`- CPU per streamed event (overload, ${eventsOf("overload")} events a stream: mostly the relay itself): ${cpuOverload === null ? "n/a" : `${cpuOverload.toFixed(2)}×`}`);
  const sustained = results.filter((r) => r.case === "sustained" && r.target === "gateway-full-memory").at(-1);
  if (sustained) lines.push(`- sustained overload through the gateway: ${sustained.client.counts.shed} of ${sustained.streams} new streams shed with 503, ${sustained.client.counts.complete} complete, ${sustained.lost} lost; stream length p99 ${seconds(sustained.client.durationP99Ms)} s (nominal ${((sustained.intervalMs * (sustained.eventsPerStream + 3)) / 1000).toFixed(1)})`);
  lines.push(`- memory per open stream (held): ${memory === null ? "n/a" : `${memory.toFixed(2)}×`}`);
  const lost = results.filter((r) => r.target !== "bare-undici").reduce((sum, r) => sum + r.lost, 0);
  lines.push(`- streams lost through the gateway and direct, every case: ${lost} (goal 0)`);
  return `${lines.join("\n")}\n`;
}
