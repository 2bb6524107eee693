/**
 * V8 heap settings for the gateway process. Left to its defaults on a large machine, V8 lets
 * the old generation grow to several times the live heap before a full collection (measured
 * under load: 138 MB of old generation for 32–37 MB live). Two settings keep RSS near the live
 * heap:
 *  - an 8 MB young-generation semi-space (default 16 MB): ~18 MB less RSS for ~6 µs more GC per
 *    request (4 MB saved nothing more and cost ~15 µs); it must be a command-line flag, hence
 *    NODE_HEAP_FLAGS in `npm start` and the image's CMD;
 *  - a heap growing factor of 1.3 after each full GC (GATEWAY_HEAP_GROWING_PERCENT, default 30,
 *    0 for V8's own heuristics), which V8 accepts at run time;
 *  - optionally at least GATEWAY_HEAP_MIN_HEADROOM_MB of growth (default 0: off): on a small live heap (a
 *    gateway serving requests rather than holding thousands of streams: ~20 MB) 30 % is ~6 MB,
 *    and a full GC every ~6 MB of promoted objects marked 2.4x the bytes a request that the bare
 *    proxy does under V8's defaults (bench/results/gc-work-2026-11-30.md). The percent is
 *    recomputed from the live heap after each full GC, so a large heap (many open streams, where
 *    RSS matters) keeps 30 % and a small one grows by the headroom. Off by default: with 32, a
 *    ramp to 9,872 held streams (1,000 new a second) shed 1,415 and 2,934 of them on the accept
 *    delay at 97-119 µs CPU an event, against 3 shed at 82 µs with it off, same tree, same hour
 *    (bench/results/streams-2026-11-30-heap-headroom.md): the heap grown from a small one must be
 *    marked in one go while streams arrive. For pods that serve requests and hold few streams.
 */
import { PerformanceObserver, constants as perfConstants } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";

/** Flags `node` must be started with; package.json's start script and gateway/Dockerfile carry them. */
export const NODE_HEAP_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

export const DEFAULT_HEAP_GROWING_PERCENT = 30;

/** The growing percent from the environment; throws on anything but an integer 0..400. */
export function heapGrowingPercentFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.GATEWAY_HEAP_GROWING_PERCENT;
  if (raw === undefined || raw.trim() === "") return DEFAULT_HEAP_GROWING_PERCENT;
  const value = /^\d{1,3}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(value <= 400)) {
    throw new Error(`GATEWAY_HEAP_GROWING_PERCENT must be an integer from 0 to 400 (0 = V8's default), got "${raw}"`);
  }
  return value;
}

export const DEFAULT_HEAP_MIN_HEADROOM_MB = 0;

/** The minimum headroom in MB from the environment; throws on anything but an integer 0..4096 (0: the percent alone). */
export function heapMinHeadroomMbFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.GATEWAY_HEAP_MIN_HEADROOM_MB;
  if (raw === undefined || raw.trim() === "") return DEFAULT_HEAP_MIN_HEADROOM_MB;
  const value = /^\d{1,4}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(value <= 4096)) throw new Error(`GATEWAY_HEAP_MIN_HEADROOM_MB must be an integer from 0 to 4096, got "${raw}"`);
  return value;
}

/** Largest percent the headroom may ask for (a nearly empty heap would otherwise ask for thousands). */
const MAX_HEADROOM_PERCENT = 400;

/** The growing percent for a live heap of `liveBytes`: `percent`, or more when that is less than `minHeadroomMb`. */
export function growingPercentFor(liveBytes: number, percent: number, minHeadroomMb: number): number {
  if (minHeadroomMb <= 0 || liveBytes <= 0) return percent;
  const needed = Math.ceil((minHeadroomMb * 1024 * 1024 * 100) / liveBytes);
  return Math.max(percent, Math.min(MAX_HEADROOM_PERCENT, needed));
}

/** The growing percent last given to V8 (0: V8's own heuristics). */
let applied = 0;

/** What limitHeapGrowth last set: the flag cannot be read back from V8. */
export function heapGrowingPercentApplied(): number {
  return applied;
}

/**
 * Applies the growing factor (0 leaves V8's defaults alone) and, with a minimum headroom, keeps
 * it up to date after each full GC. Returns the percent set at start.
 */
export function limitHeapGrowth(env: NodeJS.ProcessEnv = process.env): number {
  const percent = heapGrowingPercentFrom(env);
  if (percent === 0) return 0;
  const headroomMb = heapMinHeadroomMbFrom(env);
  applied = growingPercentFor(getHeapStatistics().used_heap_size, percent, headroomMb);
  setFlagsFromString(`--heap-growing-percent=${applied}`);
  if (headroomMb === 0) return applied;
  // V8 reads the flag when it sets the next limit, at the end of each full GC: set it from the
  // heap that GC left (the observer hears scavenges too, batched: it acts on full GCs only).
  const observer = new PerformanceObserver((list) => {
    let major = false;
    for (const entry of list.getEntries()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) major = true;
    if (!major) return;
    const next = growingPercentFor(getHeapStatistics().used_heap_size, percent, headroomMb);
    if (next === applied) return;
    applied = next;
    setFlagsFromString(`--heap-growing-percent=${applied}`);
  });
  observer.observe({ entryTypes: ["gc"] });
  return applied;
}
