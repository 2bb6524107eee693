/**
 * How many requests the process can carry before it runs out of file descriptors. Each proxied
 * request holds two sockets (the client's and the upstream's); past the limit accept() fails
 * with EMFILE and libuv closes the new connection unanswered, which a client sees as a reset.
 * So the overload ceilings default to what the descriptors allow, and a request past them gets a
 * 503 it can read instead.
 */
import { readFileSync } from "node:fs";

/** Descriptors kept for everything else: listeners, Redis, health checks, log files, and the refusals themselves. */
export const FD_RESERVE = 256;

/** The soft "Max open files" limit from /proc/self/limits text; null when absent or unlimited. */
export function parseOpenFileLimit(limitsText: string): number | null {
  const line = limitsText.split("\n").find((l) => l.startsWith("Max open files"));
  if (line === undefined) return null;
  const soft = Number(line.slice("Max open files".length).trim().split(/\s+/)[0]);
  return Number.isInteger(soft) && soft > 0 ? soft : null;
}

/** This process's open-file limit (Linux); null elsewhere or when it cannot be read. */
export function openFileLimit(): number | null {
  try {
    return parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return null;
  }
}

/** Requests in flight the descriptors allow (two sockets each), never below 64. */
export function inFlightCeilingFor(fdLimit: number | null): number | null {
  if (fdLimit === null) return null;
  return Math.max(64, Math.floor((fdLimit - FD_RESERVE) / 2));
}

/**
 * Client connections (in flight or idle keep-alive) the descriptors allow: what the in-flight
 * requests' upstream sockets leave. Past it a new connection is answered 503 and closed.
 */
export function connectionCeilingFor(fdLimit: number | null, inFlightCeiling: number): number | null {
  if (fdLimit === null) return null;
  return Math.max(64, fdLimit - FD_RESERVE - inFlightCeiling);
}
