/**
 * Labelled histogram series for the hot path (request, upstream and first-token latency: two or
 * three observations a request). prom-client's child `observe` wraps the value in an object,
 * validates the labels and builds their hash string on every call (~600 bytes of garbage, ~1 µs);
 * here a series is found through a tree of Maps (no key string), its label hash is computed once,
 * and an observation adds to prom-client's own series record exactly as prom-client's observe
 * does (same additions in the same order), so the exposition is unchanged and nothing is pending.
 *
 * This writes into the histogram's series table (`hashMap`, keyed by prom-client's label hash,
 * each series `{ sum, count, bucketValues }` keyed by upper bound): prom-client has no cheaper
 * public observe. The shape is checked at start (another shape: prom-client's public children); test/gateway/metrics/histogram-series.test.ts
 * compares the exposition with prom-client's own observe, across reset().
 */
import type { Histogram } from "prom-client";

export interface HistogramSeries {
  observe(value: number): void;
}

interface PromSeries {
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
}

interface HistogramInternals {
  hashMap: Record<string, PromSeries | undefined>;
  upperBounds: readonly number[];
  sortedLabelNames: readonly string[];
  zero(labels: Record<string, string>): void;
}

type HashObject = (labels: Record<string, string>, names?: readonly string[]) => string;

/** prom-client's own label hash (lib/util.js), so a series here and one made by `labels()` are the same series; null if a release moved it. */
function promHashObject(): HashObject | null {
  try {
    const util = require("prom-client/lib/util") as { hashObject?: HashObject };
    return typeof util.hashObject === "function" ? util.hashObject : null;
  } catch {
    return null;
  }
}
const hashObject = promHashObject();

class Series implements HistogramSeries {
  constructor(
    private readonly metric: HistogramInternals,
    private readonly labels: Record<string, string>,
    private readonly hash: string,
    private readonly bounds: readonly number[],
    /** The bounds as prom-client's bucket keys, made once. */
    private readonly keys: readonly string[],
  ) {}
  observe(value: number): void {
    // prom-client's own check, kept.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    // Looked up each time: reset() and remove() replace or drop the record.
    let record = this.metric.hashMap[this.hash];
    if (record === undefined) {
      this.metric.zero(this.labels);
      record = this.metric.hashMap[this.hash]!;
    }
    record.sum += value;
    record.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        record.bucketValues[this.keys[i]] += 1;
        return;
      }
    }
  }
}

type Level = Map<string, Level | Series>;

/** `get(...labelValues)` (in the histogram's labelNames order, 1 to 3 labels) for one histogram. */
export function histogramSeries(metric: Histogram<string>, labelNames: readonly string[]) {
  const internals = metric as unknown as HistogramInternals;
  if (labelNames.length < 1 || labelNames.length > 3) throw new Error(`histogramSeries: 1 to 3 labels, not ${labelNames.length}`);
  const hash = hashObject;
  if (hash === null || typeof internals.hashMap !== "object" || !Array.isArray(internals.upperBounds) || typeof internals.zero !== "function" || !Array.isArray(internals.sortedLabelNames)) {
    // A prom-client release with other internals: its public (slower) children, same exposition.
    return (a: string, b = "", c = ""): HistogramSeries => metric.labels(...[a, b, c].slice(0, labelNames.length));
  }
  const bounds = internals.upperBounds;
  const keys = bounds.map(String);
  const root: Level = new Map();
  const depth = labelNames.length;
  const make = (values: readonly string[]): Series => {
    const labels: Record<string, string> = {};
    labelNames.forEach((name, i) => (labels[name] = values[i]));
    return new Series(internals, labels, hash(labels, internals.sortedLabelNames), bounds, keys);
  };
  // Fixed parameters, not a rest array: a hit allocates nothing.
  return (a: string, b = "", c = ""): HistogramSeries => {
    let level = root;
    if (depth > 1) {
      let next = level.get(a) as Level | undefined;
      if (next === undefined) level.set(a, (next = new Map()));
      level = next;
    }
    if (depth > 2) {
      let next = level.get(b) as Level | undefined;
      if (next === undefined) level.set(b, (next = new Map()));
      level = next;
    }
    const last = depth === 1 ? a : depth === 2 ? b : c;
    let found = level.get(last) as Series | undefined;
    if (found === undefined) level.set(last, (found = make([a, b, c].slice(0, depth))));
    return found;
  };
}
