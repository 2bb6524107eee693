/**
 * The process's budget for buffered bodies: request bodies being read and non-streaming upstream
 * answers held until they are written. Each request holds a share through a `BufferHold`; a share
 * that does not fit is refused (503 server_overloaded), so many large answers at once, or clients
 * that never read them, cannot grow memory past the budget.
 */
import { getHeapStatistics } from "node:v8";
import { GatewayError } from "../errors";

/** The default ceiling: 256 MiB of bodies next to a ~120 MB working heap fit a 1 GiB pod with room for parse copies. */
export const DEFAULT_BUFFERED_BYTES_CAP = 256 * 1024 * 1024;

/**
 * The default budget: 256 MiB, or half of V8's heap limit when that is smaller (a JSON answer is
 * also decoded and parsed on the heap while it is checked), and never less than one largest body.
 */
export function defaultBufferedBytesLimit(largestBody: number, heapLimit: number = getHeapStatistics().heap_size_limit): number {
  return Math.max(largestBody, Math.min(DEFAULT_BUFFERED_BYTES_CAP, Math.floor(heapLimit / 2)));
}

export class BufferBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes held now (the `aigw_buffered_bytes` gauge). */
  get usedBytes(): number {
    return this.used;
  }

  /** A share for one request or answer, empty until it grows. */
  hold(): BufferHold {
    return new BufferHold(this);
  }

  /** @internal Reserves `bytes` when they fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class BufferHold {
  private held = 0;

  constructor(private readonly budget: BufferBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Grows the share to at least `total` bytes; false (and unchanged) when the budget is full. */
  growTo(total: number): boolean {
    if (total <= this.held) return true;
    if (!this.budget.take(total - this.held)) return false;
    this.held = total;
    return true;
  }

  /** Gives everything back; safe to call more than once. */
  release(): void {
    if (this.held === 0) return;
    this.budget.give(this.held);
    this.held = 0;
  }
}

/** The client's answer when the budget is full; buffers free up as answers are written. */
export function overloadedError(what: string): GatewayError {
  return new GatewayError("GW_ERR_SERVER_OVERLOADED", `The gateway is holding too many large bodies to take ${what} now; retry shortly.`, [["retry-after", "1"]]);
}
