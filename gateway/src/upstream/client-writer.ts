/**
 * Writes a buffered answer to the client in slices, with backpressure (a stream is written by
 * stream-delivery.ts). Either way a client that leaves a write unread for the write timeout is
 * cut, so it cannot hold the answer's memory (or a paused upstream) for ever.
 */
import { ioFairTimeout } from "../http/io-fair-timeout";
import type { ServerResponse } from "node:http";

/** Slices of a large answer handed to the socket at a time (views of the body, not copies). */
const SLICE_BYTES = 256 * 1024;

/**
 * Calls `resume` once the client drained what it was sent, or destroys the response after
 * `timeoutMs` without a drain (then `onStall`, e.g. to abort a paused upstream).
 */
export function awaitDrain(res: ServerResponse, timeoutMs: number, resume: () => void, onStall: () => void = () => {}): void {
  // I/O-fair: a drain that arrived while the loop was stalled (overload) is not taken for a stall.
  const timer = ioFairTimeout(() => {
    res.off("drain", onDrain).off("close", onClose);
    res.destroy();
    onStall();
  }, timeoutMs);
  const onClose = () => {
    timer.clear();
    res.off("drain", onDrain);
  };
  const onDrain = () => {
    timer.clear();
    res.off("close", onClose);
    resume();
  };
  res.once("drain", onDrain).once("close", onClose);
}

export function writeBuffered(res: ServerResponse, status: number, contentType: string, body: Buffer, headers: string[], writeTimeoutMs: number): void {
  if (res.destroyed) return;
  headers.push("content-type", contentType, "content-length", String(body.length));
  res.writeHead(status, headers);
  if (body.length <= SLICE_BYTES) {
    res.end(body);
    return;
  }
  let offset = 0;
  const pump = () => {
    while (offset < body.length) {
      if (res.destroyed) return;
      const end = Math.min(offset + SLICE_BYTES, body.length);
      const drained = res.write(body.subarray(offset, end));
      offset = end;
      if (!drained) return awaitDrain(res, writeTimeoutMs, pump);
    }
    res.end();
  };
  pump();
}

/**
 * node:http builds the response head as a rope of 50-70 small strings (one `+=` per header line)
 * and keeps it as `_header` for the life of the response: about 2 KB a stream. Reading one
 * character flattens it in place (one copy of a few hundred bytes), and the rope is collected.
 */
export function flattenHead(res: ServerResponse): void {
  const head = (res as { _header?: unknown })._header;
  if (typeof head === "string") head.charCodeAt(0);
}
