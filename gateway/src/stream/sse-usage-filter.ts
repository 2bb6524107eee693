/**
 * Passes an upstream SSE byte stream through event by event, reading the `usage` block the
 * stream carries and, when the gateway itself asked for it (`stream_options.include_usage`),
 * removing that extra usage-only event so the client sees what it asked for.
 * Complete events are forwarded as they arrive, unchanged and uncopied when nothing is dropped;
 * only a trailing partial event is held until its end arrives.
 *
 * Per chunk the hot path looks at each byte about once: a chunk that ends with a blank line needs
 * no event scan (see SseEventScanner), one indexOf finds a usage block, and only the event that
 * holds it is delimited and parsed (test/gateway/stream/sse-relay-oracle.test.ts checks it against
 * the scan-everything version on random streams cut at random).
 */
import type { Usage } from "../traffic/types";
import { tallyDeltas, type DeltaTally } from "./delta-count";
import { eventEnds, SseEventScanner } from "./sse-events";
import { generationUsageFromObject } from "./usage";

/** A line-less stream is not SSE: past this much held data, forward it as it is. */
const MAX_HELD_BYTES = 1 << 20;

/**
 * `usage":` and `usage"`, found without their opening quote, which is checked after: a needle
 * starting with `"` (the commonest byte in JSON) makes Buffer.indexOf about 3.5 times slower.
 */
const USAGE_KEY_TAIL = Buffer.from('usage":');
const USAGE_QUOTED_TAIL = Buffer.from('usage"');
const QUOTE = 0x22;

/** Where `"usage"` (with `tail`'s ending) first appears at or after `from`, at its opening quote; -1 when nowhere. */
function quotedAt(data: Buffer, tail: Buffer, from: number): number {
  let at = data.indexOf(tail, from + 1);
  while (at !== -1 && data[at - 1] !== QUOTE) at = data.indexOf(tail, at + 1);
  return at === -1 ? -1 : at - 1;
}

/** Where `"usage":` first appears with an object value (not `null`), or -1. */
function usageObjectAt(data: Buffer): number {
  let at = quotedAt(data, USAGE_KEY_TAIL, 0);
  while (at !== -1) {
    let i = at + 1 + USAGE_KEY_TAIL.length;
    while (data[i] === 0x20) i++;
    if (data[i] === 0x7b /* { */) return at;
    at = quotedAt(data, USAGE_KEY_TAIL, i);
  }
  return -1;
}

/** The JSON payload of an event's `data:` lines, or null. */
function eventData(event: string): string | null {
  let data: string | null = null;
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (!line.startsWith("data:")) continue;
    const value = line.slice(line[5] === " " ? 6 : 5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}

export class SseUsageFilter {
  usage: Usage | null = null;
  /**
   * Generated text forwarded so far (when counting): what the client got, if usage never comes.
   * Counted only until the upstream's usage is read (after that it is never charged).
   */
  readonly delivered: DeltaTally | null;
  /** The trailing partial event, as received (joined once, when it completes: linear, not quadratic). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private readonly scanner = new SseEventScanner();
  /** A dropped event ended on the CR of a CRLF split between chunks: its LF is dropped too. */
  private dropNextLF = false;

  /**
   * @param dropUsageOnlyEvents remove usage events with no choices (the gateway added them).
   * @param countDeltas tally the generated text of the complete events passed through.
   */
  constructor(private readonly dropUsageOnlyEvents: boolean, countDeltas = false) {
    this.delivered = countDeltas ? { pieces: 0, bytes: 0 } : null;
  }

  /** Returns the bytes to forward now (possibly empty). */
  push(input: Buffer): Buffer {
    const chunk = this.dropNextLF && input[0] === 0x0a ? input.subarray(1) : input;
    this.dropNextLF = false;
    const end = this.scanner.scan(chunk);
    if (end === -1) {
      if (this.heldBytes + chunk.length > MAX_HELD_BYTES) return this.takeHeld(chunk);
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return EMPTY;
    }
    const complete = this.takeHeld(end === chunk.length ? chunk : chunk.subarray(0, end));
    if (end < chunk.length) {
      this.held.push(chunk.subarray(end));
      this.heldBytes = chunk.length - end;
    }
    const usageAt = usageObjectAt(complete);
    const out = usageAt === -1 ? complete : this.processEvents(complete, usageAt);
    this.tally(complete);
    return out;
  }

  /**
   * Counts the generated text of `complete` while the upstream's usage is unknown: the count is
   * charged only when no usage arrives, so from the chunk that brings it on nothing is counted
   * (a burst that ends with the usage event, as most short answers arrive, is never scanned).
   */
  private tally(complete: Buffer): void {
    if (this.delivered !== null && this.usage === null) tallyDeltas(complete, 0, complete.length, this.delivered);
  }

  /** What is still held when the stream ends (an unterminated last event). */
  flush(): Buffer {
    const rest = this.takeHeld(EMPTY);
    if (rest.length === 0) return rest;
    const usageAt = usageObjectAt(rest);
    const out = usageAt === -1 ? rest : this.processEvents(rest, usageAt);
    this.tally(rest);
    return out;
  }

  /** The held bytes followed by `tail`, emptying the hold; uncopied when nothing was held. */
  private takeHeld(tail: Buffer): Buffer {
    if (this.held.length === 0) return tail;
    if (tail.length > 0) this.held.push(tail);
    const out = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes + tail.length);
    this.held = [];
    this.heldBytes = 0;
    return out;
  }

  /**
   * Reads usage from the events that mention it and cuts the dropped ones out by byte offsets.
   * `firstUsage`: the first usage object (events before it carry none, or `"usage":null`).
   */
  private processEvents(complete: Buffer, firstUsage: number): Buffer {
    // Line endings other than LF (rare: the SSE spec allows CR and CRLF) take the full scan.
    if (complete.indexOf(CR) !== -1) return this.processEventsScanned(complete, firstUsage);
    let kept: Buffer[] | null = null;
    let keptFrom = 0;
    let at = firstUsage;
    while (at !== -1) {
      const start = eventStartBefore(complete, at);
      const blank = complete.indexOf(BLANK_LINE, at);
      // An unterminated last event (at the end of the stream) counts as one too.
      const end = blank === -1 ? complete.length : blank + 2;
      if (this.readUsage(singleDataLine(complete, start, end) ?? eventData(complete.toString("utf8", start, end)))) {
        kept ??= [];
        if (start > keptFrom) kept.push(complete.subarray(keptFrom, start));
        keptFrom = end;
      }
      at = end < complete.length ? quotedAt(complete, USAGE_QUOTED_TAIL, end) : -1;
    }
    if (kept === null) return complete;
    if (keptFrom < complete.length) kept.push(complete.subarray(keptFrom));
    return joinKept(kept);
  }

  /** processEvents for bytes with CRs: every event end found by the spec's scanner. */
  private processEventsScanned(complete: Buffer, firstUsage: number): Buffer {
    let kept: Buffer[] | null = null;
    let keptFrom = 0;
    let start = 0;
    let at = firstUsage;
    const ends = eventEnds(complete);
    // An unterminated last event (at the end of the stream) counts as one too.
    if ((ends[ends.length - 1] ?? 0) < complete.length) ends.push(complete.length);
    for (const end of ends) {
      if (at === -1) break;
      if (at < end) {
        if (this.readUsage(eventData(complete.toString("utf8", start, end)))) {
          kept ??= [];
          if (start > keptFrom) kept.push(complete.subarray(keptFrom, start));
          keptFrom = end;
        }
        at = quotedAt(complete, USAGE_QUOTED_TAIL, end);
      }
      start = end;
    }
    if (kept === null) return complete;
    if (keptFrom === complete.length && complete[complete.length - 1] === CR) this.dropNextLF = true;
    if (keptFrom < complete.length) kept.push(complete.subarray(keptFrom));
    return joinKept(kept);
  }

  /**
   * Records the usage in an event's data (the event holds `"usage"`: that is how it was found);
   * returns true when the event should be dropped.
   */
  private readUsage(data: string | null): boolean {
    if (data === null || data === "[DONE]") return false;
    let parsed: { usage?: unknown; choices?: unknown };
    try {
      parsed = JSON.parse(data);
    } catch {
      return false;
    }
    const usage = generationUsageFromObject(parsed.usage);
    if (usage === null) return false;
    this.usage = usage;
    return this.dropUsageOnlyEvents && Array.isArray(parsed.choices) && parsed.choices.length === 0;
  }
}

/**
 * Where the event holding byte `at` starts, in bytes that start at an event start and hold no CR:
 * after the last blank line before `at`, past any further LFs (each an empty event of its own).
 */
function eventStartBefore(bytes: Buffer, at: number): number {
  const blank = at >= 2 ? bytes.lastIndexOf(BLANK_LINE, at - 2) : -1;
  let start = blank === -1 ? 0 : blank + 2;
  while (bytes[start] === LF) start++;
  return start;
}

/**
 * The value of an event that is one `data:` line (what OpenAI-compatible servers send) and
 * nothing but LFs after it, in bytes with no CR; null for any other shape (the caller reads every line).
 */
function singleDataLine(bytes: Buffer, start: number, end: number): string | null {
  if (bytes[start] !== 0x64 || bytes[start + 1] !== 0x61 || bytes[start + 2] !== 0x74 || bytes[start + 3] !== 0x61 || bytes[start + 4] !== 0x3a /* data: */) return null;
  const lineEnd = bytes.indexOf(LF, start);
  if (lineEnd === -1 || lineEnd >= end) return null;
  for (let i = lineEnd; i < end; i++) if (bytes[i] !== LF) return null;
  const from = start + (bytes[start + 5] === 0x20 ? 6 : 5);
  return bytes.toString("utf8", from, lineEnd);
}

/** The kept pieces as one buffer; none (a chunk that was only the dropped usage event) needs no new one. */
function joinKept(kept: Buffer[]): Buffer {
  return kept.length === 0 ? EMPTY : kept.length === 1 ? kept[0] : Buffer.concat(kept);
}

const LF = 0x0a;
const CR = 0x0d;
const BLANK_LINE = Buffer.from("\n\n");
const EMPTY = Buffer.alloc(0);
