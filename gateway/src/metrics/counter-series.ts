/**
 * Labelled counter series for the hot path. prom-client re-hashes a child's labels on every
 * `inc()` (a string built, validated and looked up: ~0.6–1.2 µs and ~400 bytes of garbage each,
 * four to five times a request), so here a series is a plain accumulator, found by one Map
 * look-up, and its increments are handed to prom-client (one `inc` per series that moved) when
 * the metric is read: every scrape, cluster aggregation and test reads through `collect`.
 */
import type { Counter } from "prom-client";

export interface CounterSeries {
  inc(value?: number): void;
}

class Series implements CounterSeries {
  pending = 0;
  constructor(
    readonly labels: Record<string, string>,
    readonly values: readonly string[],
  ) {}
  inc(value = 1): void {
    // prom-client's own checks, kept: a bad value is a bug to hear about, not a metric to corrupt.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value < 0) throw new Error("It is not possible to decrease a counter");
    this.pending += value;
  }
}

function nth(i: number, a: string, b: string, c: string, d: string, e: string, f = ""): string {
  return i === 0 ? a : i === 1 ? b : i === 2 ? c : i === 3 ? d : i === 4 ? e : f;
}

/** A tree of Maps, one level per label: a look-up builds no key string (label values are mostly interned constants). */
type Level = Map<string, Level | Series>;

/** `get(...labelValues)` for one counter (values in its labelNames' order), and `removeWhere` to drop series. */
export function counterSeries(metric: Counter<string>, labelNames: readonly string[]) {
  if (labelNames.length < 1 || labelNames.length > 6) throw new Error(`counterSeries: 1 to 6 labels, not ${labelNames.length}`);
  const root: Level = new Map();
  const all = new Set<Series>();
  const flush = (): void => {
    for (const each of all) {
      if (each.pending === 0) continue;
      metric.inc(each.labels, each.pending);
      each.pending = 0;
    }
  };
  // Chained in front of any collect the metric already has.
  const target = metric as unknown as { collect?: () => unknown };
  const previous = target.collect;
  target.collect = function (this: unknown) {
    flush();
    return previous?.call(this);
  };
  const depth = labelNames.length;
  const make = (values: readonly string[]): Series => {
    const labels: Record<string, string> = {};
    labelNames.forEach((name, i) => (labels[name] = values[i]));
    const made = new Series(labels, values);
    all.add(made);
    return made;
  };
  // Fixed parameters, not a rest array: the hot path allocates nothing on a hit.
  const get = (a: string, b = "", c = "", d = "", e = "", f = ""): CounterSeries => {
    let level = root;
    for (let i = 0; i < depth - 1; i++) {
      const value = nth(i, a, b, c, d, e);
      let next = level.get(value) as Level | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const last = nth(depth - 1, a, b, c, d, e, f);
    let found = level.get(last) as Series | undefined;
    if (found === undefined) level.set(last, (found = make([a, b, c, d, e, f].slice(0, depth))));
    return found;
  };
  /** Drops the series (pending increments included) whose label values match, e.g. a deleted key's. */
  get.removeWhere = (match: (values: readonly string[]) => boolean): void => {
    for (const each of all) {
      if (!match(each.values)) continue;
      metric.remove(each.labels);
      all.delete(each);
      let level = root;
      for (let i = 0; i < depth - 1; i++) level = level.get(each.values[i]) as Level;
      level.delete(each.values[depth - 1]);
    }
  };
  return get;
}
