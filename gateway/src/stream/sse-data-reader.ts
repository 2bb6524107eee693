/**
 * Reads an SSE byte stream into events (`event:` name and joined `data:` lines), incrementally:
 * chunks may split events anywhere, each byte is scanned once (see sse-events.ts), and only the
 * trailing partial event is held. For the translators, which need every event's payload.
 */
import { SseEventScanner } from "./sse-events";

export interface SseMessage {
  /** The `event:` field, or null when the event has none. */
  event: string | null;
  data: string;
}

/** More than any sane single event: a line-less stream is not SSE. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export class SseDataReader {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private readonly scanner = new SseEventScanner();

  /** The complete events in `chunk` (with what was held before it). Throws past MAX_EVENT_BYTES held. */
  push(chunk: Buffer): SseMessage[] {
    const ends: number[] = [];
    this.scanner.scan(chunk, ends);
    if (ends.length === 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes > MAX_EVENT_BYTES) throw Object.assign(new Error("an SSE event exceeded 16 MiB"), { code: "GW_SSE_EVENT_TOO_LARGE" });
      return [];
    }
    const out: SseMessage[] = [];
    let start = 0;
    for (const end of ends) {
      let bytes = chunk.subarray(start, end);
      if (start === 0 && this.held.length > 0) {
        bytes = Buffer.concat([...this.held, bytes]);
        this.held = [];
        this.heldBytes = 0;
      }
      const message = parseEvent(bytes.toString("utf8"));
      if (message !== null) out.push(message);
      start = end;
    }
    if (start < chunk.length) {
      this.held.push(chunk.subarray(start));
      this.heldBytes = chunk.length - start;
    }
    return out;
  }

  /** Bytes of the trailing partial event held (a suffix of what was pushed). */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** An unterminated last event, when the stream ended without its empty line. */
  flush(): SseMessage[] {
    if (this.held.length === 0) return [];
    const text = Buffer.concat(this.held).toString("utf8");
    this.held = [];
    this.heldBytes = 0;
    const message = parseEvent(text);
    return message === null ? [] : [message];
  }
}

/** One event's fields; null for an event with no data (a comment or keep-alive). */
export function parseEvent(text: string): SseMessage | null {
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
  return data === null ? null : { event, data };
}
