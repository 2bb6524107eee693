/**
 * Passes an upstream SSE byte stream through event by event, reading the `usage` block the
 * stream carries and, when the gateway itself asked for it (`stream_options.include_usage`),
 * removing that extra usage-only event so the client sees what it asked for.
 * Complete events are forwarded as they arrive, unchanged and uncopied when nothing is dropped;
 * only a trailing partial event is held until its end arrives.
 */
import type { Usage } from "../traffic/types";
import { tallyDeltas, type DeltaTally } from "./delta-count";
import { usageFromObject } from "./usage";

const LF_LF = Buffer.from("\n\n");
const LF_CRLF = Buffer.from("\n\r\n");
const USAGE_KEY = Buffer.from('"usage":');
/** A line-less stream is not SSE: past this much held data, forward it as it is. */
const MAX_HELD_BYTES = 1 << 20;

const USAGE_QUOTED = Buffer.from('"usage"');

/** End (exclusive) of the last complete event in `data`, or -1; `\n\r\n` is looked for only once a `\r` was seen. */
function lastEventEnd(data: Buffer, crSeen: boolean): number {
  const lf = data.lastIndexOf(LF_LF);
  const crlf = crSeen ? data.lastIndexOf(LF_CRLF) : -1;
  return Math.max(lf === -1 ? -1 : lf + 2, crlf === -1 ? -1 : crlf + 3);
}

/** Start of the next event after `from` (a position just past `\n\n` or `\n\r\n`), or `data.length`. */
function nextEventStart(data: Buffer, from: number): number {
  let i = data.indexOf(0x0a, from);
  while (i !== -1) {
    if (i >= 1 && (data[i - 1] === 0x0a || (data[i - 1] === 0x0d && i >= 2 && data[i - 2] === 0x0a))) return i + 1;
    i = data.indexOf(0x0a, i + 1);
  }
  return data.length;
}

/** True when `usage` appears with an object value (not `null`). */
function hasUsageObject(data: Buffer): boolean {
  let at = data.indexOf(USAGE_KEY);
  while (at !== -1) {
    let i = at + USAGE_KEY.length;
    while (data[i] === 0x20) i++;
    if (data[i] === 0x7b /* { */) return true;
    at = data.indexOf(USAGE_KEY, i);
  }
  return false;
}

/** The JSON payload of an event's `data:` lines, or null. */
function eventData(event: string): string | null {
  let data: string | null = null;
  for (const line of event.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const value = line.slice(line[5] === " " ? 6 : 5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}

export class SseUsageFilter {
  usage: Usage | null = null;
  /** Generated text forwarded so far (when counting): what the client got, if usage never comes. */
  readonly delivered: DeltaTally | null;
  private held: Buffer | null = null;
  private crSeen = false;

  /**
   * @param dropUsageOnlyEvents remove usage events with no choices (the gateway added them).
   * @param countDeltas tally the generated text of the complete events passed through.
   */
  constructor(private readonly dropUsageOnlyEvents: boolean, countDeltas = false) {
    this.delivered = countDeltas ? { pieces: 0, bytes: 0 } : null;
  }

  /** Returns the bytes to forward now (possibly empty). */
  push(chunk: Buffer): Buffer {
    const data = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    if (!this.crSeen && chunk.indexOf(0x0d) !== -1) this.crSeen = true;
    const end = lastEventEnd(data, this.crSeen);
    if (end === -1) {
      if (data.length > MAX_HELD_BYTES) {
        this.held = null;
        return data;
      }
      this.held = data;
      return EMPTY;
    }
    this.held = end < data.length ? data.subarray(end) : null;
    const complete = end === data.length ? data : data.subarray(0, end);
    if (this.delivered) tallyDeltas(complete, 0, complete.length, this.delivered);
    return hasUsageObject(complete) ? this.processEvents(complete) : complete;
  }

  /** What is still held when the stream ends (an unterminated last event). */
  flush(): Buffer {
    const rest = this.held ?? EMPTY;
    this.held = null;
    if (rest.length > 0 && this.delivered) tallyDeltas(rest, 0, rest.length, this.delivered);
    if (rest.length > 0 && hasUsageObject(rest)) return this.processEvents(rest);
    return rest;
  }

  /** Reads usage from the events that mention it and cuts the dropped ones out by byte offsets. */
  private processEvents(complete: Buffer): Buffer {
    let kept: Buffer[] | null = null;
    let keptFrom = 0;
    let start = 0;
    let usageAt = complete.indexOf(USAGE_QUOTED);
    while (usageAt !== -1 && start < complete.length) {
      const end = nextEventStart(complete, usageAt);
      // Events before the one holding `"usage"` are kept as they are.
      let eventStart = start;
      for (let next = nextEventStart(complete, start); next <= usageAt && next < end; next = nextEventStart(complete, next)) eventStart = next;
      if (this.readUsage(complete.toString("utf8", eventStart, end))) {
        kept ??= [];
        if (eventStart > keptFrom) kept.push(complete.subarray(keptFrom, eventStart));
        keptFrom = end;
      }
      start = end;
      usageAt = end < complete.length ? complete.indexOf(USAGE_QUOTED, end) : -1;
    }
    if (kept === null) return complete;
    if (keptFrom < complete.length) kept.push(complete.subarray(keptFrom));
    return kept.length === 1 ? kept[0] : Buffer.concat(kept);
  }

  /** Records the event's usage; returns true when the event should be dropped. */
  private readUsage(event: string): boolean {
    if (!event.includes('"usage"')) return false;
    const data = eventData(event);
    if (data === null || data === "[DONE]") return false;
    let parsed: { usage?: unknown; choices?: unknown };
    try {
      parsed = JSON.parse(data);
    } catch {
      return false;
    }
    const usage = usageFromObject(parsed.usage);
    if (usage === null) return false;
    this.usage = usage;
    return this.dropUsageOnlyEvents && Array.isArray(parsed.choices) && parsed.choices.length === 0;
  }
}

const EMPTY = Buffer.alloc(0);
