/**
 * Lingering close, as nginx and HAProxy do it: after an early answer (a refusal sent before the
 * request body was read) with `connection: close`, send our FIN but keep reading and discarding
 * what the client still sends, for a bounded time, before closing the socket. Closing at once
 * with unread bytes makes the kernel send a reset, and a client still writing its body then
 * loses the answer it was sent (it sees EPIPE or ECONNRESET instead of the 401, 413 or 503).
 */
import type { Socket } from "node:net";

/** How long a refused client may go on sending before the socket is closed under it. */
export const LINGER_MS = 2_000;

const lingering = new WeakSet<Socket>();

/**
 * Makes node:http's close after this connection's answer (it calls `destroySoon()` once a
 * `connection: close` response is written) a lingering one: our side ends, the rest of the body
 * is read and dropped (node:http dumps an unread request), and the socket closes when the client
 * closes its side, or after `lingerMs`.
 */
export function lingerOnClose(socket: Socket, lingerMs: number = LINGER_MS): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    if (this.destroyed) return;
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once("close", () => clearTimeout(timer));
  };
}
