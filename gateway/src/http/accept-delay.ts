/**
 * Measures how long new connections wait before the process answers them: on every tick a probe
 * connection to the process's own public listener sends `GET /healthz`, timed from connect() to
 * the answer's first byte. That is what a new client waits before the gateway even reads its
 * request: the kernel's accept queue, then a turn or two of the loop.
 *
 * Why not the lag: a process relaying more stream events than it can runs long turns that keep
 * its timers on time (lag tens of ms) while new connections pile up in the accept queue, taken a
 * few a turn (measured: 1,222 queued, about 6 s, at 185 new streams a second, with the lag under
 * 300 ms). A process busy but keeping up (thousands of held streams, keep-alive clients at full
 * throughput) answers a probe within a few turns.
 *
 * The sample is the shortest delay of the probes answered in the last second (CoDel's idea: the
 * minimum tells a standing queue from a burst). A burst of connections (a load generator opening
 * its 64 connections at once) delays the probes behind it, but the ones sent last are answered
 * quickly once the burst is taken, so the minimum stays low; a queue that arrivals keep full
 * delays every probe. One stall of the loop delays every probe sent before it, and the first probe
 * sent after it brings the minimum down again on the next tick. At most 16 probes are out: behind
 * a queue seconds deep they are answered in turn, each with the queue's wait.
 *
 * Through the shared listening socket, several workers on one port measure the queue they share.
 */
import { connect, type Socket } from "node:net";

/** The probe's Host header: how the server knows its own probe (not access-logged, see server.ts). */
export const PROBE_HOST = "overload-probe";

const PROBE_REQUEST = Buffer.from(`GET /healthz HTTP/1.1\r\nhost: ${PROBE_HOST}\r\nconnection: close\r\n\r\n`);

/** Probes answered this recently make the sample. */
export const ACCEPT_DELAY_WINDOW_MS = 1_000;
/** Probes out at once; past it no new one is sent until one is answered (or given up). */
export const MAX_PROBES_OUT = 16;
/** A probe unanswered this long is given up (a queue that deep is long past any threshold; the lag sees a loop stalled that long). */
export const PROBE_GIVE_UP_MS = 30_000;

export interface ProbeTarget {
  host: string;
  port: number;
}

interface Probe {
  socket: Socket;
  sentAt: number;
}

export class AcceptDelayProbe {
  /** Probes waiting for their answer, oldest first. */
  private readonly out: Probe[] = [];
  /** Answered probes: when, and how long each waited (oldest first). */
  private readonly answeredAt: number[] = [];
  private readonly delays: number[] = [];
  private stopped = false;

  constructor(
    private readonly target: ProbeTarget,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Probes waiting for their answer now. */
  get outstanding(): number {
    return this.out.length;
  }

  /**
   * Called on each tick of the sampler: sends a probe, and returns the shortest delay of the
   * probes answered in the last second, in ms, or null when none was (no new information: the
   * caller keeps its state; a loop stalled that long is the lag's to see).
   */
  tick(): number | null {
    if (this.stopped) return null;
    const now = this.now();
    while (this.answeredAt.length > 0 && now - this.answeredAt[0] > ACCEPT_DELAY_WINDOW_MS) {
      this.answeredAt.shift();
      this.delays.shift();
    }
    if (this.out.length > 0 && now - this.out[0].sentAt > PROBE_GIVE_UP_MS) this.out.shift()!.socket.destroy();
    // At the cap, the probes out wait in the queue being measured: their answers are the samples.
    if (this.out.length < MAX_PROBES_OUT) this.send(now);
    if (this.delays.length === 0) return null;
    let min = this.delays[0];
    for (const delay of this.delays) if (delay < min) min = delay;
    return min;
  }

  /**
   * How long the oldest probe still out has waited (0 for one just sent), or null when none is
   * out. With no probe answered in the last second, that age is what is known of the queue: a
   * lower bound when probes wait behind it, about 0 when they fail at once (refused, reset, out of
   * descriptors): then no queue is known, and shedding on it must not stay on for lack of news.
   */
  oldestWaitingMs(): number | null {
    return this.out.length === 0 ? null : this.now() - this.out[0].sentAt;
  }

  stop(): void {
    this.stopped = true;
    for (const probe of this.out) probe.socket.destroy();
    this.out.length = 0;
  }

  private send(now: number): void {
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const probe: Probe = { socket, sentAt: now };
    this.out.push(probe);
    // A probe must never keep the process alive (nor hold up a drain).
    socket.unref();
    const done = (answered: boolean) => {
      const at = this.out.indexOf(probe);
      if (at === -1) return;
      this.out.splice(at, 1);
      socket.destroy();
      if (!answered) return;
      const answeredAt = this.now();
      this.answeredAt.push(answeredAt);
      this.delays.push(answeredAt - probe.sentAt);
    };
    socket.once("data", () => done(true));
    // Refused (draining), reset or out of descriptors: no sample from this one.
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
    socket.write(PROBE_REQUEST);
  }
}

/**
 * The address to probe for a listener bound to `host`: a wildcard bind is reached through loopback.
 * `::` too goes through 127.0.0.1: a dual-stack listener takes IPv4 there, and a pod or host with
 * IPv6 disabled has no `::1` (the probes would fail and the signal go silently off).
 */
export function probeHostFor(host: string): string {
  if (host === "0.0.0.0" || host === "" || host === "::") return "127.0.0.1";
  return host;
}
