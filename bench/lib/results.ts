/**
 * The benchmark's results: their shape, the ratios between proxies from one run, the issue's
 * targets checked against them, and the Markdown report. Pure functions, tested without sockets.
 */
import type { LoadResult } from "./load";
import type { TtfbResult } from "./ttfb";

export const TARGETS = ["direct", "haproxy", "bare-undici", "gateway-minimal", "gateway-full-memory", "gateway-full-redis", "gateway-cluster"] as const;
export type TargetName = (typeof TARGETS)[number];
export const DEFAULT_TARGETS: readonly TargetName[] = TARGETS.filter((t) => t !== "gateway-cluster");
export const GATEWAY_TARGETS: readonly TargetName[] = ["gateway-minimal", "gateway-full-memory", "gateway-full-redis", "gateway-cluster"];

export const CASES = ["json-64", "json-1", "sse-64", "sse-1", "sse-256-held"] as const;
export type CaseName = (typeof CASES)[number];

export const CASE_LABELS: Record<CaseName, string> = {
  "json-64": "JSON, 64 conn",
  "json-1": "JSON, 1 conn",
  "sse-64": "SSE, 64 conn",
  "sse-1": "SSE, 1 conn",
  "sse-256-held": "SSE held open, 256 conn",
};

export interface CaseResult {
  case: CaseName;
  load: LoadResult | null;
  /** Only for sse-1: time to first byte measured separately, one stream at a time. */
  ttfb: TtfbResult | null;
  /** CPU of the process under test (its whole tree) per request, µs. */
  cpuUsPerRequest: number;
  /** CPU of the mock upstream per request, µs (the same work in every row). */
  mockCpuUsPerRequest: number;
  /** CPU of redis-server per request, µs (gateway-full-redis only). */
  redisCpuUsPerRequest: number | null;
  peakRssMb: number;
  /** non-2xx + socket errors + timeouts (+ TTFB stream errors). */
  errors: number;
  /** Why the case did not run or failed. */
  failure: string | null;
}

export interface TargetResult {
  name: TargetName;
  /** What ran: command, config summary. */
  description: string;
  /** What the gateway actually did (probed), gateways only. */
  features: string | null;
  featureWarnings: string[];
  cases: CaseResult[];
  /** Peak RSS over the whole target's run (VmHWM of its processes), MB. */
  peakRssMb: number;
  skipped: string | null;
}

export interface Machine {
  hostname: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  kernel: string;
}

export interface BenchReport {
  date: string;
  smoke: boolean;
  machine: Machine;
  versions: Record<string, string>;
  settings: Record<string, string | number | boolean>;
  targets: TargetResult[];
  ratios: RatioRow[];
  checks: TargetCheck[];
  notes: string[];
}

export interface RatioRow {
  gateway: TargetName;
  reference: TargetName;
  json64: number | null;
  sse64: number | null;
  json1: number | null;
  sse1: number | null;
  /** gateway CPU/request ÷ reference CPU/request (json-64). */
  cpuPerRequest: number | null;
}

export interface TargetCheck {
  name: string;
  value: string;
  goal: string;
  status: "pass" | "FAIL" | "n/a";
}

function caseOf(targets: TargetResult[], target: TargetName, name: CaseName): CaseResult | null {
  const c = targets.find((t) => t.name === target)?.cases.find((x) => x.case === name);
  return c && c.load && !c.failure ? c : null;
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null;
}

export function computeRatios(targets: TargetResult[]): RatioRow[] {
  const rows: RatioRow[] = [];
  const present = new Set(targets.filter((t) => !t.skipped).map((t) => t.name));
  for (const gateway of GATEWAY_TARGETS) {
    if (!present.has(gateway)) continue;
    for (const reference of ["haproxy", "direct", "bare-undici"] as TargetName[]) {
      if (!present.has(reference)) continue;
      const rps = (c: CaseName, t: TargetName) => caseOf(targets, t, c)?.load?.rps;
      rows.push({
        gateway,
        reference,
        json64: ratio(rps("json-64", gateway), rps("json-64", reference)),
        sse64: ratio(rps("sse-64", gateway), rps("sse-64", reference)),
        json1: ratio(rps("json-1", gateway), rps("json-1", reference)),
        sse1: ratio(rps("sse-1", gateway), rps("sse-1", reference)),
        cpuPerRequest: ratio(caseOf(targets, gateway, "json-64")?.cpuUsPerRequest, caseOf(targets, reference, "json-64")?.cpuUsPerRequest),
      });
    }
  }
  return rows;
}

/** Added p50 latency at one connection over the direct path, ms (JSON requests). */
export function addedP50Ms(targets: TargetResult[], target: TargetName): number | null {
  const mine = caseOf(targets, target, "json-1")?.load?.p50Ms;
  const direct = caseOf(targets, "direct", "json-1")?.load?.p50Ms;
  return mine !== undefined && direct !== undefined ? mine - direct : null;
}

/** Added TTFB p50 at one connection over the direct path, ms (streams). */
export function addedTtfbMs(targets: TargetResult[], target: TargetName): number | null {
  const mine = caseOf(targets, target, "sse-1")?.ttfb?.p50Ms;
  const direct = caseOf(targets, "direct", "sse-1")?.ttfb?.p50Ms;
  return mine !== undefined && direct !== undefined ? mine - direct : null;
}

/** The issue's targets, from this run's figures. */
export function checkTargets(targets: TargetResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const vsHaproxy = (gateway: TargetName, c: CaseName, goal: number, label: string) => {
    const r = ratio(caseOf(targets, gateway, c)?.load?.rps, caseOf(targets, "haproxy", c)?.load?.rps);
    checks.push({ name: label, value: r === null ? "—" : `${r.toFixed(2)} × HAProxy`, goal: `≥ ${goal} × HAProxy`, status: r === null ? "n/a" : r >= goal ? "pass" : "FAIL" });
  };
  vsHaproxy("gateway-full-memory", "json-64", 0.5, "JSON req/s, all features, memory store");
  vsHaproxy("gateway-full-redis", "json-64", 0.35, "JSON req/s, all features, Redis store");
  vsHaproxy("gateway-full-memory", "sse-64", 0.5, "SSE req/s, all features, memory store");
  const added = addedP50Ms(targets, "gateway-full-memory");
  checks.push({ name: "Added p50 at 1 conn, all features (memory)", value: added === null ? "—" : `${added.toFixed(3)} ms`, goal: "≤ 0.25 ms", status: added === null ? "n/a" : added <= 0.25 ? "pass" : "FAIL" });
  for (const gateway of ["gateway-full-memory", "gateway-full-redis"] as TargetName[]) {
    const rss = caseOf(targets, gateway, "sse-256-held")?.peakRssMb;
    checks.push({ name: `Peak RSS, 256 concurrent streams (${gateway.slice(8)})`, value: rss === undefined ? "—" : `${rss.toFixed(0)} MB`, goal: "≤ 150 MB", status: rss === undefined ? "n/a" : rss <= 150 ? "pass" : "FAIL" });
  }
  let errors = 0;
  let ran = 0;
  for (const t of targets) for (const c of t.cases) if (c.load) {
    ran++;
    errors += c.errors;
  }
  checks.push({ name: "Errors, every target and load", value: String(errors), goal: "0", status: ran === 0 ? "n/a" : errors === 0 ? "pass" : "FAIL" });
  return checks;
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(digits));
const int = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString("en-US"));

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(`# Benchmark ${report.smoke ? "smoke run (figures meaningless)" : "results"}: ${report.date}`, "");
  out.push(`Machine: ${m.hostname}, ${m.cpus} × ${m.cpuModel}, ${m.memoryGb.toFixed(1)} GB, Linux ${m.kernel}.`);
  out.push(`Versions: ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join("; ")}.`);
  out.push(`Settings: ${Object.entries(report.settings).map(([k, v]) => `${k}=${v}`).join(", ")}.`, "");
  for (const note of report.notes) out.push(`- ${note}`);
  out.push("");

  out.push("## Results", "");
  out.push("| Target | Case | req/s | p50 ms | p99 ms | added p50 vs direct | TTFB p50 / p99 ms | CPU µs/req | mock CPU µs/req | peak RSS MB | errors |");
  out.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const directJson1 = caseOf(report.targets, "direct", "json-1")?.load?.p50Ms;
  const directTtfb = caseOf(report.targets, "direct", "sse-1")?.ttfb?.p50Ms;
  for (const t of report.targets) {
    if (t.skipped) {
      out.push(`| ${t.name} | skipped: ${t.skipped} | | | | | | | | | |`);
      continue;
    }
    for (const c of t.cases) {
      if (!c.load || c.failure) {
        out.push(`| ${t.name} | ${CASE_LABELS[c.case]}: failed: ${(c.failure ?? "no result").replace(/\|/g, "/").slice(0, 120)} | | | | | | | | | |`);
        continue;
      }
      let added = "";
      if (c.case === "json-1" && directJson1 !== undefined && t.name !== "direct") added = `+${fmt(c.load.p50Ms - directJson1, 3)} ms`;
      if (c.case === "sse-1" && c.ttfb && directTtfb !== undefined && t.name !== "direct") added = `TTFB +${fmt(c.ttfb.p50Ms - directTtfb, 3)} ms`;
      const ttfb = c.ttfb ? `${fmt(c.ttfb.p50Ms, 3)} / ${fmt(c.ttfb.p99Ms, 3)}` : "";
      const redis = c.redisCpuUsPerRequest !== null ? ` (+redis ${fmt(c.redisCpuUsPerRequest, 1)})` : "";
      out.push(
        `| ${t.name} | ${CASE_LABELS[c.case]} | ${int(c.load.rps)} | ${fmt(c.load.p50Ms, 3)} | ${fmt(c.load.p99Ms, 3)} | ${added} | ${ttfb} | ${fmt(c.cpuUsPerRequest, 1)}${redis} | ${fmt(c.mockCpuUsPerRequest, 1)} | ${fmt(c.peakRssMb, 0)} | ${c.errors} |`,
      );
    }
  }
  out.push("");
  const gateways = report.targets.filter((t) => t.features !== null || t.featureWarnings.length > 0);
  if (gateways.length > 0) {
    out.push("## What each gateway actually did (probed)", "");
    for (const t of gateways) {
      out.push(`- **${t.name}**: ${t.description}. Probed: ${t.features ?? "—"}.${t.featureWarnings.map((w) => ` ⚠ ${w}`).join("")}`);
    }
    out.push("");
  }
  const others = report.targets.filter((t) => t.features === null && t.featureWarnings.length === 0 && !t.skipped);
  if (others.length > 0) {
    out.push("## References", "");
    for (const t of others) out.push(`- **${t.name}**: ${t.description}.`);
    out.push("");
  }

  out.push("## Ratios from this run (req/s; CPU per request for the CPU column)", "");
  out.push("| Gateway | ÷ | JSON 64 | SSE 64 | JSON 1 | SSE 1 | CPU/req (JSON 64) |");
  out.push("|---|---|---:|---:|---:|---:|---:|");
  for (const r of report.ratios) out.push(`| ${r.gateway} | ${r.reference} | ${fmt(r.json64)} | ${fmt(r.sse64)} | ${fmt(r.json1)} | ${fmt(r.sse1)} | ${fmt(r.cpuPerRequest)} |`);
  out.push("");

  out.push("## The issue's targets", "");
  out.push("| Target | This run | Goal | |");
  out.push("|---|---:|---:|---|");
  for (const c of report.checks) out.push(`| ${c.name} | ${c.value} | ${c.goal} | ${c.status} |`);
  out.push("");
  return out.join("\n");
}
