/** The SSE usage filter before the per-chunk fast paths (commit 9116086), verbatim: the oracle for sse-relay-oracle.test.ts. */
import type { Usage } from "../../../../gateway/src/traffic/types";
import { referenceTallyDeltas as tallyDeltas, type DeltaTally } from "./delta-count-reference";
import { referenceEventEnds as eventEnds, ReferenceSseEventScanner as SseEventScanner } from "./sse-events-reference";
import { usageFromObject } from "../../../../gateway/src/stream/usage";

const USAGE_KEY = Buffer.from('"usage":');
/** A line-less stream is not SSE: past this much held data, forward it as it is. */
const MAX_HELD_BYTES = 1 << 20;

const USAGE_QUOTED = Buffer.from('"usage"');

/** Where `"usage":` first appears with an object value (not `null`), or -1. */
function usageObjectAt(data: Buffer): number {
  let at = data.indexOf(USAGE_KEY);
  while (at !== -1) {
    let i = at + USAGE_KEY.length;
    while (data[i] === 0x20) i++;
    if (data[i] === 0x7b /* { */) return at;
    at = data.indexOf(USAGE_KEY, i);
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

export class ReferenceSseUsageFilter {
  usage: Usage | null = null;
  /** Generated text forwarded so far (when counting): what the client got, if usage never comes. */
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
    if (this.delivered) tallyDeltas(complete, 0, complete.length, this.delivered);
    const usageAt = usageObjectAt(complete);
    return usageAt === -1 ? complete : this.processEvents(complete, usageAt);
  }

  /** What is still held when the stream ends (an unterminated last event). */
  flush(): Buffer {
    const rest = this.takeHeld(EMPTY);
    if (rest.length > 0 && this.delivered) tallyDeltas(rest, 0, rest.length, this.delivered);
    const usageAt = rest.length > 0 ? usageObjectAt(rest) : -1;
    return usageAt === -1 ? rest : this.processEvents(rest, usageAt);
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
        if (this.readUsage(complete.toString("utf8", start, end))) {
          kept ??= [];
          if (start > keptFrom) kept.push(complete.subarray(keptFrom, start));
          keptFrom = end;
        }
        at = complete.indexOf(USAGE_QUOTED, end);
      }
      start = end;
    }
    if (kept === null) return complete;
    if (keptFrom === complete.length && complete[complete.length - 1] === 0x0d) this.dropNextLF = true;
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
