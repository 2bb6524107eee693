/**
 * A gauge set on the hot path, whose value matters only when it is read: the budget ratios are
 * set at every admission and settlement of a budgeted key, and prom-client hashes the labels on
 * each `set` (keys listed and sorted, a string built, a new entry object: ≈ 1.3 KB of garbage and
 * ≈ 1 µs a call). Here a `set(labels, value)` writes the value into a slot found by the labels
 * object (callers pass the same object every time: see traffic/key-checks.ts), and the slots set
 * since the last read are handed to prom-client when the metric is read (`collect`: every scrape,
 * cluster aggregation and test reads through it). What a read sees is unchanged: the last value
 * set for each label set, and nothing for a label set removed since.
 */
import type { Gauge } from "prom-client";

interface Slot {
  readonly labels: Record<string, string>;
  value: number;
  dirty: boolean;
}

/** Label objects seen so far, past which the table of slots by label values starts over. */
const MAX_SLOTS = 10_000;

/** Makes `gauge.set(labels, value)` deferred to the next read (in place; other methods unchanged but remove/reset, which apply what is pending first). */
export function deferGaugeSets<T extends Gauge<string>>(gauge: T): T {
  const labelNames = (gauge as unknown as { labelNames: readonly string[] }).labelNames;
  const setNow = gauge.set.bind(gauge) as (labels: Record<string, string>, value: number) => void;
  const removeNow = gauge.remove.bind(gauge);
  const resetNow = gauge.reset.bind(gauge);
  /** One slot per label values; a labels object finds its slot without building a string. */
  let byValues = new Map<string, Slot>();
  let byObject = new WeakMap<object, Slot>();
  let dirty: Slot[] = [];

  const flush = (): void => {
    const pending = dirty;
    if (pending.length === 0) return;
    dirty = [];
    for (const slot of pending) {
      slot.dirty = false;
      setNow(slot.labels, slot.value);
    }
  };
  const slotOf = (labels: Record<string, string>): Slot => {
    let slot = byObject.get(labels);
    if (slot !== undefined) return slot;
    const values = labelNames.map((name) => labels[name]).join("\u0000");
    slot = byValues.get(values);
    if (slot === undefined) {
      if (byValues.size >= MAX_SLOTS) {
        flush();
        byValues = new Map();
        byObject = new WeakMap();
      }
      // The first sight of a label set is set at once: prom-client validates the label names here.
      slot = { labels, value: 0, dirty: false };
      byValues.set(values, slot);
    }
    byObject.set(labels, slot);
    return slot;
  };

  const target = gauge as unknown as {
    set: (labels: unknown, value?: number) => void;
    remove: (...args: unknown[]) => void;
    reset: () => void;
    collect?: () => unknown;
  };
  target.set = (labels: unknown, value?: number): void => {
    if (labels === null || typeof labels !== "object") {
      // A gauge without labels: set at once, as prom-client would (the original method, bound above).
      flush();
      (setNow as unknown as (v: unknown) => void)(labels);
      return;
    }
    if (typeof value !== "number") throw new TypeError(`Value is not a valid number: ${String(value)}`);
    const known = byObject.has(labels);
    const slot = slotOf(labels as Record<string, string>);
    if (!known) {
      // Validated now (a wrong label name throws at the caller), and ordered after what is pending.
      flush();
      setNow(slot.labels, value);
      slot.value = value;
      return;
    }
    slot.value = value;
    if (!slot.dirty) {
      slot.dirty = true;
      dirty.push(slot);
    }
  };
  target.remove = (...args: unknown[]): void => {
    flush();
    (removeNow as (...a: unknown[]) => void)(...args);
  };
  target.reset = (): void => {
    for (const slot of dirty) slot.dirty = false;
    dirty = [];
    resetNow();
  };
  // Chained in front of any collect the gauge already has.
  const previous = target.collect;
  target.collect = function (this: unknown) {
    flush();
    return previous?.call(this);
  };
  return gauge;
}
