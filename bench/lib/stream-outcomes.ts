/**
 * What became of one stream the raw-socket client opened, read from the bytes it received: an
 * incremental scanner of the HTTP answer (status, Retry-After, SSE `data:` events, [DONE]) and
 * the classification of how the connection ended. Pure: the socket handling is in
 * bench/stream-client.ts.
 */

/**
 * `complete`: 200 and [DONE]. `shed`: 503 server_overloaded with Retry-After (the graceful
 * refusal). `refused`: any other HTTP answer. The rest are losses: `cut` (a stream that had
 * started ended before [DONE]), `reset` (socket error before any answer byte), `no-response`
 * (closed before any answer byte), `connect-failed`, `timeout` (no end within the deadline).
 */
export const OUTCOMES = ["complete", "shed", "refused", "cut", "reset", "no-response", "connect-failed", "timeout"] as const;
export type StreamOutcome = (typeof OUTCOMES)[number];
export const LOSSES: readonly StreamOutcome[] = ["cut", "reset", "no-response", "connect-failed", "timeout"];

const HEADER_END = "\r\n\r\n";
const EVENT = Buffer.from("data: ");
const DONE = Buffer.from("data: [DONE]");
/** Bytes kept from the previous chunk so a marker split across two reads is still found. */
const CARRY = DONE.length - 1;
const BODY_SAMPLE = 512;

export class AnswerScanner {
  status: number | null = null;
  retryAfter = false;
  events = 0;
  done = false;
  /** Bytes of the answer received (head and body). */
  bytes = 0;
  /** The start of the body, for the error code of a refusal. */
  bodySample = "";
  private head = "";
  private carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.status === null) {
      this.head += chunk.toString("latin1");
      const end = this.head.indexOf(HEADER_END);
      if (end === -1) return;
      this.readHead(this.head.slice(0, end));
      const rest = Buffer.from(this.head.slice(end + HEADER_END.length), "latin1");
      this.head = "";
      this.scanBody(rest);
      return;
    }
    this.scanBody(chunk);
  }

  private readHead(head: string): void {
    const status = Number(head.slice(9, 12));
    this.status = Number.isInteger(status) ? status : 0;
    this.retryAfter = /\r\nretry-after:\s*\d+/i.test(head);
  }

  private scanBody(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.bodySample.length < BODY_SAMPLE) this.bodySample += chunk.subarray(0, BODY_SAMPLE - this.bodySample.length).toString("latin1");
    const text = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    // Markers wholly inside the carried bytes were counted with the previous chunk.
    for (let at = text.indexOf(EVENT); at !== -1; at = text.indexOf(EVENT, at + EVENT.length)) {
      if (at + EVENT.length > this.carry.length) this.events++;
    }
    if (!this.done && text.includes(DONE)) this.done = true;
    this.carry = Buffer.from(text.subarray(Math.max(0, text.length - CARRY)));
  }
}

export type Ending = { kind: "end" } | { kind: "error"; code: string } | { kind: "timeout" } | { kind: "connect-failed" };

export function classify(scan: AnswerScanner, ending: Ending): StreamOutcome {
  if (ending.kind === "connect-failed") return "connect-failed";
  if (scan.status === 200 && scan.done) return "complete";
  if (ending.kind === "timeout") return "timeout";
  if (scan.status === null) return scan.bytes === 0 && ending.kind === "error" ? "reset" : "no-response";
  if (scan.status === 200) return "cut";
  if (scan.status === 503 && scan.retryAfter && scan.bodySample.includes("overloaded")) return "shed";
  return "refused";
}

export type OutcomeCounts = Record<StreamOutcome, number>;

export function emptyCounts(): OutcomeCounts {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
}

export function lostOf(counts: OutcomeCounts): number {
  return LOSSES.reduce((sum, outcome) => sum + counts[outcome], 0);
}
