/**
 * The request body as undici is given it. undici's Request keeps its `body` until the answer
 * ends, which for a stream is minutes: a large prompt's bytes would stay in memory for the whole
 * stream. From `RELEASE_AFTER_SEND_BYTES` the body goes as a one-shot iterable that forgets the
 * bytes once it has handed them to the socket, with its content-length stated so the upstream
 * still gets a plain (not chunked) body. Smaller bodies stay a Buffer: undici's Buffer path is
 * the cheaper one, and a few kilobytes a stream is not worth a per-request cost on the hot path.
 */

/** Bodies of this many bytes or more are released once written (see above). */
export const RELEASE_AFTER_SEND_BYTES = 16 * 1024;

/** An iterable of one chunk that drops its reference to the chunk as it yields it. */
export class SendOnceBody implements Iterable<Buffer> {
  constructor(private bytes: Buffer | null) {}

  *[Symbol.iterator](): Iterator<Buffer> {
    const bytes = this.bytes;
    this.bytes = null;
    if (bytes !== null) yield bytes;
  }
}

/** What to dispatch: the Buffer itself when small, else a SendOnceBody (add `contentLengthHeader`). */
export function dispatchBody(body: Buffer): Buffer | SendOnceBody {
  return body.length < RELEASE_AFTER_SEND_BYTES ? body : new SendOnceBody(body);
}

/** The bytes of a dispatched body, for in-process dispatchers (the mock): a SendOnceBody is consumed. */
export function dispatchedBytes(body: unknown): Buffer | null {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof SendOnceBody) return Buffer.concat([...body]);
  return null;
}
