/**
 * This replica's recent traffic in a rolling window, pure (the clock is passed in): requests,
 * errors, time to first token and latency per model and per target, in fixed time slots so old
 * traffic falls out without a timer. Feeds the console's overview and targets pages.
 */
import { mergeInto, newHistogram, observe, quantile, type LogHistogram } from "./log-histogram";
import type { ModelWindowStats } from "./contract";

export interface WindowSample {
  /** When the request finished, ms since the epoch. */
  at: number;
  /** The model the client asked for ("" when unknown). */
  model: string;
  /** `model/target` of the target that answered, or null. */
  targetId: string | null;
  status: number;
  latencyMs: number;
  ttftMs: number | null;
}

interface Tally {
  requests: number;
  errors: number;
  clientErrors: number;
  ttft: LogHistogram;
  latency: LogHistogram;
}

interface Slot {
  start: number;
  models: Map<string, Tally>;
  targets: Map<string, Tally>;
}

export interface WindowOptions {
  slotMs: number;
  slots: number;
  /** Requests per second are measured over this much of the window (the newest part). */
  rateWindowMs: number;
}

export const DEFAULT_WINDOW: WindowOptions = { slotMs: 10_000, slots: 30, rateWindowMs: 60_000 };

const newTally = (): Tally => ({ requests: 0, errors: 0, clientErrors: 0, ttft: newHistogram(), latency: newHistogram() });

/** Targets show no time to first token: `withTtft` false skips it (a log and an increment per request). */
function add(tally: Tally, sample: WindowSample, withTtft: boolean): void {
  tally.requests += 1;
  if (sample.status >= 500) tally.errors += 1;
  else if (sample.status >= 400) tally.clientErrors += 1;
  observe(tally.latency, sample.latencyMs);
  if (withTtft && sample.ttftMs !== null) observe(tally.ttft, sample.ttftMs);
}

function merge(into: Tally, from: Tally): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.clientErrors += from.clientErrors;
  mergeInto(into.ttft, from.ttft);
  mergeInto(into.latency, from.latency);
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

export interface TargetWindowStats {
  requests: number;
  errors: number;
  latencyP50Ms: number | null;
}

export class WindowStats {
  private readonly ring: (Slot | null)[];

  constructor(
    private readonly startedAt: number,
    private readonly options: WindowOptions = DEFAULT_WINDOW,
  ) {
    this.ring = new Array<Slot | null>(options.slots).fill(null);
  }

  get windowMs(): number {
    return this.options.slotMs * this.options.slots;
  }

  record(sample: WindowSample): void {
    const start = sample.at - (sample.at % this.options.slotMs);
    const index = Math.floor(start / this.options.slotMs) % this.options.slots;
    let slot = this.ring[index];
    if (slot === null || slot.start !== start) {
      if (slot !== null && slot.start > start) return; // older than the window
      slot = { start, models: new Map(), targets: new Map() };
      this.ring[index] = slot;
    }
    let model = slot.models.get(sample.model);
    if (!model) slot.models.set(sample.model, (model = newTally()));
    add(model, sample, true);
    if (sample.targetId !== null) {
      let target = slot.targets.get(sample.targetId);
      if (!target) slot.targets.set(sample.targetId, (target = newTally()));
      add(target, sample, false);
    }
  }

  /** Slots inside the window at `now`, oldest first. */
  private live(now: number): Slot[] {
    const first = this.firstSlotStart(now);
    return this.ring.filter((slot): slot is Slot => slot !== null && slot.start >= first && slot.start <= now).sort((a, b) => a.start - b.start);
  }

  /** The oldest slot still in the window: the current slot and the `slots - 1` before it. */
  private firstSlotStart(now: number): number {
    return now - (now % this.options.slotMs) - (this.options.slots - 1) * this.options.slotMs;
  }

  /** Totals, per-model figures and a per-slot series over the window. */
  summary(now: number): { requests: number; requestsPerSecond: number; errorRate: number; clientErrorRate: number; models: ModelWindowStats[]; series: { requests: number[]; errors: number[] } } {
    const slots = this.live(now);
    const perModel = new Map<string, Tally>();
    const total = newTally();
    let recent = 0;
    const rateFrom = now - this.options.rateWindowMs;
    for (const slot of slots) {
      for (const [name, tally] of slot.models) {
        let into = perModel.get(name);
        if (!into) perModel.set(name, (into = newTally()));
        merge(into, tally);
        merge(total, tally);
        if (slot.start >= rateFrom) recent += tally.requests;
      }
    }
    const rateSeconds = Math.max(1, Math.min(this.options.rateWindowMs, now - this.startedAt) / 1000);
    const models = [...perModel.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, t]) => ({
        model,
        requests: t.requests,
        requests_per_second: Math.round((t.requests / Math.max(1, Math.min(this.windowMs, now - this.startedAt) / 1000)) * 100) / 100,
        error_rate: ratio(t.errors, t.requests),
        client_error_rate: ratio(t.clientErrors, t.requests),
        ttft_p50_ms: quantile(t.ttft, 0.5),
        ttft_p95_ms: quantile(t.ttft, 0.95),
        latency_p50_ms: quantile(t.latency, 0.5),
        latency_p95_ms: quantile(t.latency, 0.95),
      }));
    const series = { requests: [] as number[], errors: [] as number[] };
    const first = this.firstSlotStart(now);
    const byStart = new Map(slots.map((s) => [s.start, s]));
    for (let start = first; start <= now; start += this.options.slotMs) {
      const slot = byStart.get(start);
      let requests = 0;
      let errors = 0;
      for (const tally of slot?.models.values() ?? []) {
        requests += tally.requests;
        errors += tally.errors;
      }
      series.requests.push(requests);
      series.errors.push(errors);
    }
    return {
      requests: total.requests,
      requestsPerSecond: Math.round((recent / rateSeconds) * 100) / 100,
      errorRate: ratio(total.errors, total.requests),
      clientErrorRate: ratio(total.clientErrors, total.requests),
      models,
      series,
    };
  }

  /** One target's figures over the window (`model/target`). */
  target(id: string, now: number): TargetWindowStats {
    const into = newTally();
    for (const slot of this.live(now)) {
      const tally = slot.targets.get(id);
      if (tally) merge(into, tally);
    }
    return { requests: into.requests, errors: into.errors, latencyP50Ms: quantile(into.latency, 0.5) };
  }
}
