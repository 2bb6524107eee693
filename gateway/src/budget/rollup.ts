/**
 * Daily spend rollups, pure: what one request adds (requests, tokens by kind, cost), how the
 * additions are stored (one hash per UTC day, one field per key × team × model × counter, so
 * replicas add to them with atomic HINCRBY), and how stored days are read back into a report
 * grouped by key, team and/or model, in total or per day, for the admin API and its charts.
 */
import type { Usage } from "../traffic/types";

/** The counters of one key × team × model on one day, in field order. */
export const COUNTERS = ["requests", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens", "cost_nano_usd", "estimated_requests"] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counters = Record<Counter, number>;

export const DIMENSIONS = ["key", "team", "model"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Who spent: the key's name ("" without a key), its team, the model pool that answered. */
export interface SpendSubject {
  key: string;
  team: string;
  model: string;
}

export function emptyCounters(): Counters {
  return { requests: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_nano_usd: 0, estimated_requests: 0 };
}

/** The counters one finished request adds. */
export function requestCounters(usage: Usage | null, costNano: number, estimated: boolean): Counters {
  return {
    requests: 1,
    input_tokens: usage?.promptTokens ?? 0,
    output_tokens: usage?.completionTokens ?? 0,
    cached_input_tokens: usage?.cachedPromptTokens ?? 0,
    cache_write_tokens: usage?.cacheWriteTokens ?? 0,
    reasoning_tokens: usage?.reasoningTokens ?? 0,
    cost_nano_usd: Math.round(costNano),
    estimated_requests: estimated ? 1 : 0,
  };
}

/** The hash field of one counter of one subject: JSON, so names may hold any character. */
export function fieldOf(subject: SpendSubject, counter: Counter): string {
  return JSON.stringify([subject.key, subject.team, subject.model, counter]);
}

/** Subjects whose field names are kept; past it the cache starts over (names are cheap to rebuild). */
const MAX_CACHED_SUBJECTS = 4096;
/** key → team → model → the fields of every counter, in COUNTERS order. */
let cachedFields = new Map<string, Map<string, Map<string, readonly string[]>>>();
let cachedSubjects = 0;

/**
 * Every counter's field of one subject, in COUNTERS order: built once per subject, since the
 * same few key × team × model subjects add to the rollups on every request.
 */
export function fieldsOf(subject: SpendSubject): readonly string[] {
  let teams = cachedFields.get(subject.key);
  let models = teams?.get(subject.team);
  const found = models?.get(subject.model);
  if (found !== undefined) return found;
  if (cachedSubjects >= MAX_CACHED_SUBJECTS) {
    cachedFields = new Map();
    cachedSubjects = 0;
    teams = models = undefined;
  }
  if (teams === undefined) cachedFields.set(subject.key, (teams = new Map()));
  if (models === undefined) teams.set(subject.team, (models = new Map()));
  const fields = COUNTERS.map((counter) => fieldOf(subject, counter));
  models.set(subject.model, fields);
  cachedSubjects++;
  return fields;
}

/** The subject and counter of a stored field; null for a field this version does not know. */
export function parseField(field: string): { subject: SpendSubject; counter: Counter } | null {
  try {
    const parsed: unknown = JSON.parse(field);
    if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((p) => typeof p === "string")) return null;
    const [key, team, model, counter] = parsed as string[];
    return (COUNTERS as readonly string[]).includes(counter) ? { subject: { key, team, model }, counter: counter as Counter } : null;
  } catch {
    return null;
  }
}

/** `YYYY-MM-DD` of a time, UTC. */
export function dayOf(time: number): string {
  if (time >= day.start && time < day.end) return day.label;
  const start = time - (((time % DAY_MS) + DAY_MS) % DAY_MS);
  day = { start, end: start + DAY_MS, label: new Date(start).toISOString().slice(0, 10) };
  return day.label;
}

const DAY_MS = 86_400_000;
/** The day last asked for: requests of one day reuse its label. */
let day = { start: 0, end: 0, label: "" };

/** Every date from `from` to `to` (inclusive), `YYYY-MM-DD`. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end; t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export interface ReportQuery {
  dates: readonly string[];
  groupBy: readonly Dimension[];
  /** Only subjects with these values. */
  filter: Partial<SpendSubject>;
  /** Per-day series in every group (for charts), or totals only. */
  interval: "day" | "total";
}

/** Counters as the API shows them: cost in USD next to the exact integer nano-USD. */
export type UsageView = Omit<Counters, "cost_nano_usd"> & { cost_usd: number; cost_nano_usd: number };

export interface SpendGroup {
  key?: string;
  team?: string;
  model?: string;
  totals: UsageView;
  /** One entry per date of the range, zeros included, when `interval` is `day`. */
  series?: (UsageView & { date: string })[];
}

export interface SpendReport {
  totals: UsageView;
  groups: SpendGroup[];
  /** Fleet totals per day, when `interval` is `day`. */
  series?: (UsageView & { date: string })[];
}

function add(into: Counters, counter: Counter, value: number): void {
  into[counter] += value;
}

export function view(c: Counters): UsageView {
  return { ...c, cost_usd: Number((c.cost_nano_usd / 1e9).toFixed(9)) };
}

/**
 * Builds the report from stored days (`fields` per date: hash field → integer string), groups
 * sorted by cost, highest first.
 */
export function buildReport(days: ReadonlyMap<string, Record<string, string>>, query: ReportQuery): SpendReport {
  const total = emptyCounters();
  const perDate = new Map(query.dates.map((d) => [d, emptyCounters()]));
  const groups = new Map<string, { group: Partial<SpendSubject>; totals: Counters; perDate: Map<string, Counters> }>();
  for (const date of query.dates) {
    const fields = days.get(date);
    if (!fields) continue;
    for (const [field, raw] of Object.entries(fields)) {
      const parsed = parseField(field);
      const value = Number(raw);
      if (!parsed || !Number.isFinite(value)) continue;
      const { subject, counter } = parsed;
      if (query.filter.key !== undefined && subject.key !== query.filter.key) continue;
      if (query.filter.team !== undefined && subject.team !== query.filter.team) continue;
      if (query.filter.model !== undefined && subject.model !== query.filter.model) continue;
      add(total, counter, value);
      add(perDate.get(date)!, counter, value);
      if (query.groupBy.length === 0) continue;
      const group: Partial<SpendSubject> = {};
      for (const dim of query.groupBy) group[dim] = subject[dim];
      const id = JSON.stringify(query.groupBy.map((dim) => subject[dim]));
      let entry = groups.get(id);
      if (!entry) {
        entry = { group, totals: emptyCounters(), perDate: new Map() };
        groups.set(id, entry);
      }
      add(entry.totals, counter, value);
      let daily = entry.perDate.get(date);
      if (!daily) entry.perDate.set(date, (daily = emptyCounters()));
      add(daily, counter, value);
    }
  }
  const series = (counters: (date: string) => Counters | undefined) => query.dates.map((date) => ({ date, ...view(counters(date) ?? emptyCounters()) }));
  const out: SpendReport = {
    totals: view(total),
    groups: [...groups.values()]
      .sort((a, b) => b.totals.cost_nano_usd - a.totals.cost_nano_usd || b.totals.requests - a.totals.requests)
      .map((g) => (query.interval === "day" ? { ...g.group, totals: view(g.totals), series: series((d) => g.perDate.get(d)) } : { ...g.group, totals: view(g.totals) })),
  };
  if (query.interval === "day") out.series = series((d) => perDate.get(d));
  return out;
}
