/**
 * A stale keep-alive connection: the upstream (or the kernel) closed an idle connection just as
 * the gateway wrote a request on it, and the socket reset or closed before any response byte.
 * Such a request was almost certainly never processed, so the attempt is tried once more on the
 * same target over a connection that is certainly new (HAProxy's `retry-on conn-failure
 * empty-response`), and it does not count against the target's passive health: a closed idle
 * connection is not the target's fault. undici itself retries only requests it had not yet
 * written; a written POST fails with the error below.
 *
 * Residual risk (docs/reliability.md): a server that read the request, started it, and then
 * reset the connection without sending a byte would run it twice.
 */
import type { Socket } from "node:net";
import { buildConnector, type Dispatcher } from "undici";
import type { UpstreamDispatcher } from "./upstream-dispatcher";

/** What a socket reset or close looks like once undici reports it. */
const RESET_CODES = new Set(["ECONNRESET", "EPIPE"]);
/** undici's SocketError messages for a connection the other side closed (not "bad response"). */
const CLOSED_MESSAGES = new Set(["other side closed", "closed"]);

interface SocketInfo {
  bytesRead?: number;
}

/**
 * Whether an error that ended an attempt before its response headers is a stale connection:
 * a reset, broken pipe or close of a connection that had carried an answer before. A connection
 * known never to have delivered a byte was new, and its reset is the target's doing; a timeout
 * is never stale (the upstream may be working on the request).
 */
export function isStaleConnectionError(error: Error): boolean {
  const err = error as Error & { code?: string; socket?: SocketInfo };
  const code = err.code ?? "";
  const closed = RESET_CODES.has(code) || (code === "UND_ERR_SOCKET" && CLOSED_MESSAGES.has(err.message));
  if (!closed) return false;
  return err.socket?.bytesRead !== 0;
}

/**
 * undici's connector, with every socket error stamped with the socket's byte counts (as undici
 * does for its own SocketError), so that a raw ECONNRESET or EPIPE also says whether the
 * connection had carried an answer before. One listener per connection, none per request.
 */
export function connectorWithSocketInfo(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) =>
    connect(opts, (err, socket) => {
      // Added before undici's own listener, so it runs first and undici passes the stamped error on.
      socket?.on("error", (error: Error & { socket?: SocketInfo }) => {
        error.socket ??= { bytesRead: socket.bytesRead };
      });
      (callback as (err: Error | null, socket: Socket | null) => void)(err, socket);
    });
}

/**
 * A dispatcher whose every request goes out on a connection that carried nothing before and is
 * closed after it (`reset: true`: undici sends `connection: close` and never reuses the socket).
 */
export class FreshConnectionDispatcher implements UpstreamDispatcher {
  constructor(private readonly pool: UpstreamDispatcher) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pool.dispatch({ ...options, reset: true }, handler);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
