/**
 * Reads an SSE byte stream into events (`event:` name and joined `data:` lines), incrementally:
 * for translators, which must understand every event. Event ends are found by SseEventScanner
 * (CR, LF and CRLF line endings, each byte looked at once); only a trailing partial event is held.
 */
import { SseEventScanner } from "./sse-events";

export interface SseEvent {
  /** The `event:` field, or null when the event had none. */
  event: string | null;
  /** The `data:` lines joined with "\n"; null when the event had none. */
  data: string | null;
}

/** The most a single unfinished event may hold: past it the stream is not SSE as we know it. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export class SseReader {
  private readonly scanner = new SseEventScanner();
  private held: Buffer[] = [];
  private heldBytes = 0;

  /** The events completed by `chunk`. Throws when one event grows past 16 MiB. */
  push(chunk: Buffer): SseEvent[] {
    const ends: number[] = [];
    this.scanner.scan(chunk, ends);
    if (ends.length === 0) {
      this.hold(chunk);
      return [];
    }
    const events: SseEvent[] = [];
    let start = 0;
    for (const end of ends) {
      const text = this.take(chunk.subarray(start, end)).toString("utf8");
      const event = parseEvent(text);
      if (event) events.push(event);
      start = end;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
    return events;
  }

  /** Bytes of the trailing partial event held (a suffix of what was pushed). */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** The unterminated last event, if any, at the end of the stream. */
  flush(): SseEvent[] {
    if (this.heldBytes === 0) return [];
    const event = parseEvent(this.take(Buffer.alloc(0)).toString("utf8"));
    return event ? [event] : [];
  }

  private hold(bytes: Buffer): void {
    this.heldBytes += bytes.length;
    if (this.heldBytes > MAX_EVENT_BYTES) throw Object.assign(new Error("an SSE event exceeded 16 MiB"), { code: "GW_SSE_EVENT_TOO_LARGE" });
    this.held.push(bytes);
  }

  private take(tail: Buffer): Buffer {
    if (this.held.length === 0) return tail;
    this.held.push(tail);
    const out = Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    return out;
  }
}

/** One event's fields; null for an event with neither a name nor data (comments, blank). */
export function parseEvent(text: string): SseEvent | null {
  let event: string | null = null;
  let data: string | null = null;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith("data:")) {
      const value = line.slice(line[5] === " " ? 6 : 5);
      data = data === null ? value : `${data}\n${value}`;
    } else if (line.startsWith("event:")) {
      event = line.slice(line[6] === " " ? 7 : 6);
    }
  }
  return event === null && data === null ? null : { event, data };
}

/** An SSE event as bytes: `event: <name>\ndata: <json>\n\n`. */
export function formatEvent(event: string | null, data: string): string {
  return event === null ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
