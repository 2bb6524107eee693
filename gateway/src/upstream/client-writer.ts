/**
 * Writes what an upstream answered to the client: a buffered answer in slices, or a stream
 * event by event through the usage filter, with backpressure, a maximum duration, and a clear
 * SSE error event when the upstream breaks off after the first byte. Either way a client that
 * leaves a write unread for the write timeout is cut, so it cannot hold the answer's memory (or a
 * paused upstream) for ever.
 */
import { ioFairTimeout } from "../http/io-fair-timeout";
import type { ServerResponse } from "node:http";
import type { Translator } from "../translate/translator";
import type { Usage } from "../traffic/types";
import type { UpstreamAttempt } from "./attempt";
import { StreamRedactor, type TargetSecret } from "./redact";

const STREAM_HEADERS = ["content-type", "text/event-stream; charset=utf-8", "cache-control", "no-cache", "x-accel-buffering", "no"];

const EMPTY = Buffer.alloc(0);

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
function flattenHead(res: ServerResponse): void {
  const head = (res as { _header?: unknown })._header;
  if (typeof head === "string") head.charCodeAt(0);
}

export interface StreamResult {
  usage: Usage | null;
  /** Completion tokens the gateway counted in what it forwarded (when asked to count). */
  deliveredTokens: number | null;
  /** The upstream broke off (or ran past its maximum) after the client got bytes. */
  interrupted: boolean;
  clientClosed: boolean;
}

export function pipeStream(
  res: ServerResponse,
  attempt: UpstreamAttempt,
  first: Buffer,
  headers: string[],
  options: {
    /** Turns each upstream chunk into the client's bytes and reads the usage (the pass-through only filters). */
    translator: Translator;
    maxStreamMs: number;
    /** How long the client may leave the stream unread before it is cut (the upstream waits paused meanwhile). */
    stallMs: number;
    /** The target's key and credentials, never passed on even when the upstream echoes them. */
    secrets: readonly TargetSecret[];
  },
): Promise<StreamResult> {
  const translator = options.translator;
  const redactor = new StreamRedactor(options.secrets);
  let usage: Usage | null = null;
  const filter = {
    push: (chunk: Buffer) => {
      const piece = translator.responseBody(chunk, false);
      usage = piece.usage;
      return redactor.push(piece.body);
    },
    flush: () => {
      const piece = translator.responseBody(EMPTY, true);
      usage = piece.usage;
      const rest = redactor.push(piece.body);
      const held = redactor.flush();
      return held.length === 0 ? rest : Buffer.concat([rest, held]);
    },
  };
  for (const value of STREAM_HEADERS) headers.push(value);
  res.writeHead(200, headers);
  flattenHead(res);
  const firstOut = filter.push(first);
  if (firstOut.length > 0) res.write(firstOut);
  return new Promise((resolve) => {
    let done = false;
    const maxTimer = setTimeout(() => attempt.abort(Object.assign(new Error("stream exceeded its maximum duration"), { code: "GW_MAX_STREAM" })), options.maxStreamMs);
    maxTimer.unref();
    const finish = (interrupted: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(maxTimer);
      resolve({ usage, deliveredTokens: translator.deliveredTokens(), interrupted, clientClosed: res.destroyed && !res.writableFinished });
    };
    attempt.attach({
      write(chunk) {
        const out = filter.push(chunk);
        return out.length === 0 || res.destroyed || res.write(out);
      },
      onDrain(resume) {
        // undici's body timeout does not run while the upstream is paused: without this, a client
        // that stops reading would hold the upstream connection until maxStreamMs.
        awaitDrain(res, options.stallMs, resume, () => attempt.abort(Object.assign(new Error("client stopped reading the stream"), { code: "GW_CLIENT_STALLED" })));
      },
      end() {
        const rest = filter.flush();
        if (!res.destroyed) res.end(rest.length > 0 ? rest : undefined);
        finish(false);
      },
      fail(error) {
        if (!res.destroyed) {
          const reason = (error as { code?: string }).code === "GW_MAX_STREAM" ? "The stream exceeded the gateway's maximum duration." : "The upstream stream was interrupted.";
          const rest = redactor.push(translator.streamError(reason));
          const held = redactor.flush();
          res.end(held.length === 0 ? rest : Buffer.concat([rest, held]));
        }
        finish(true);
      },
    });
  });
}
