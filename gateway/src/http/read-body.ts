/**
 * Reads a request body into one Buffer, refusing it (413) as soon as it passes the limit, and
 * (503) when the process's buffer budget cannot hold it: the declared length is reserved up front,
 * chunked bodies as they arrive. The caller releases `hold` when the request is over.
 */
import type { IncomingMessage } from "node:http";
import { GatewayError } from "../errors";
import { overloadedError, type BufferHold } from "./buffer-budget";

/**
 * The body at once when all of it has already arrived (the usual small request, whose body came
 * in the same read as its headers: node:http has its declared length buffered once the request
 * event's handler yields), with readBody's budget check; null when some is still to come, when the
 * length is not declared (chunked), or when it is over the limit (then readBody, which refuses it
 * as before). No promise, listeners or stream events between the request's arrival and its
 * dispatch upstream.
 */
export function readBodyNow(req: IncomingMessage, limit: number, hold: BufferHold | null = null): Buffer | null {
  const declared = req.headers["content-length"];
  if (declared === undefined || req.readableFlowing === true) return null;
  const length = Number(declared);
  if (!(length <= limit) || req.readableLength !== length) return null;
  if (hold && !hold.growTo(length)) throw overloadedError("this request body");
  // One buffer of everything buffered (a single chunk is returned as it is).
  return (req.read() as Buffer | null) ?? EMPTY;
}

const EMPTY = Buffer.alloc(0);

export function readBody(req: IncomingMessage, limit: number, hold: BufferHold | null = null): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new GatewayError("GW_ERR_BODY_TOO_LARGE", `Request body is larger than ${limit} bytes.`));
  }
  if (hold && declared !== undefined && !hold.growTo(Number(declared) || 0)) return Promise.reject(overloadedError("this request body"));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new GatewayError("GW_ERR_BODY_TOO_LARGE", `Request body is larger than ${limit} bytes.`));
        return;
      }
      if (hold && !hold.growTo(size)) {
        cleanup();
        reject(overloadedError("this request body"));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    // An error on the request stream is the client's connection failing (reset, or cut by a
    // server timeout): a client close (499), not a gateway fault.
    const onAborted = () => {
      cleanup();
      reject(Object.assign(new Error("client aborted the request"), { code: "GW_CLIENT_CLOSED" }));
    };
    const onError = onAborted;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onAborted);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onAborted);
  });
}
