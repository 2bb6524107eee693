/**
 * SseReader for consumers that need only events carrying data (the Responses translators): the
 * same incremental, linear parsing, with data-less events (a bare `event:` line) left out.
 */
import { SseReader, type SseEvent } from "./sse-reader";

export interface SseMessage {
  /** The `event:` field, or null when the event has none. */
  event: string | null;
  data: string;
}

export class SseDataReader {
  private readonly reader = new SseReader();

  /** The complete events in `chunk` (with what was held before it). Throws past 16 MiB held. */
  push(chunk: Buffer): SseMessage[] {
    return withData(this.reader.push(chunk));
  }

  /** Bytes of the trailing partial event held (a suffix of what was pushed). */
  get pendingBytes(): number {
    return this.reader.pendingBytes;
  }

  /** An unterminated last event, when the stream ended without its empty line. */
  flush(): SseMessage[] {
    return withData(this.reader.flush());
  }
}

function withData(events: SseEvent[]): SseMessage[] {
  return events.filter((event): event is SseMessage => event.data !== null);
}
