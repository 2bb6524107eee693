/**
 * `server.overload`: when the process sheds new proxied requests (503 server_overloaded with
 * Retry-After) instead of taking work it cannot serve. See http/overload.ts and docs/capacity.md.
 */
import { z } from "zod";

export const overloadSchema = z
  .object({
    /**
     * Requests in flight on the proxy routes, streams included, past which new ones are shed; 0: no
     * ceiling. 12,000 lets the 10,000 concurrent streams a process is sized for (docs/capacity.md)
     * pass with a margin, and still bounds memory and file descriptors (two per stream: keep
     * `ulimit -n` above twice this).
     */
    maxInFlight: z.number().int().nonnegative().default(12_000),
    /**
     * Shed while the sampled event-loop lag is at or above this (two samples in a row, so one GC
     * pause does not); 0: never shed on lag. A busy process relaying thousands of streams lags tens
     * of milliseconds; a saturated one, a second and more on every tick. Shedding stops once the lag
     * has stayed under half of this for a second (no flapping).
     */
    maxEventLoopLagMs: z.number().int().nonnegative().default(500),
    /**
     * Shed while new connections wait this long before the process answers them: a probe
     * connection to the public listener every 100 ms, timed from connect to the first byte of a
     * `/healthz` answer; the sample is the shortest delay of the probes answered in the last
     * second, and two samples in a row at this start shedding; 0: off. This tells a process that
     * cannot keep up with what it relays (new streams queue in the kernel for seconds, taken a few
     * a loop turn, while the lag stays low) from one that is busy but on time (held streams,
     * keep-alive clients at full throughput, a client opening its connections at once: the latest
     * probe is answered within a few turns). Shedding stops once it has stayed under half of this
     * for a second.
     */
    maxAcceptDelayMs: z.number().int().nonnegative().default(1_000),
    /**
     * Shed while the event loop's utilisation (the share of time it was not idle, over one-second
     * windows) is at or above this, two windows in a row; 0 (default): off. Relaying more stream
     * events than it can, a process stays near 1.0 while its lag can stay low; 0.98 sheds only a
     * loop that is never idle. Off by default: a process briefly at 1.0 while it takes a burst of
     * connections still serves them all, only slower.
     */
    maxEventLoopUtilization: z.number().min(0).max(1).default(0),
    /** The Retry-After a shed request gets, in seconds. */
    retryAfterSeconds: z.number().int().positive().max(3600).default(1),
  })
  .strict()
  .default({});

export type OverloadSettings = z.output<typeof overloadSchema>;
