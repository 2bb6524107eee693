/**
 * Measures how long a new connection waits before the process answers it: every tick, one probe
 * connection to the process's own public listener sends `GET /healthz` and times connect() to the
 * first byte of the answer. That is what a new client waits before the gateway even reads its
 * request: the kernel's accept queue, then one turn of the loop.
 *
 * Why not the lag: libuv accepts one connection per loop turn. A process relaying more stream
 * events than it can runs long turns that keep its timers on time (lag tens of ms) while new
 * connections pile up in the accept queue and wait seconds there (measured: 1,222 queued, about
 * 6 s, at 185 new streams a second). A process that is busy but keeps up (thousands of held
 * streams, or keep-alive clients at full throughput) answers the probe within a turn or two.
 *
 * The probe goes through the shared listening socket, so with several workers on one port it
 * measures the queue they share, whichever worker takes it.
 */
import { connect, type Socket } from "node:net";

const PROBE_REQUEST = Buffer.from("GET /healthz HTTP/1.1\r\nhost: overload-probe\r\nconnection: close\r\n\r\n");

export interface ProbeTarget {
  host: string;
  port: number;
}

export class AcceptDelayProbe {
  private socket: Socket | null = null;
  private startedAt = 0;
  /** A finished probe's delay not yet reported; null: none. */
  private finishedMs: number | null = null;
  private stopped = false;

  constructor(
    private readonly target: ProbeTarget,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Called on each tick of the sampler: the sample to judge, in ms, or null for none. While a probe
   * is still waiting its age so far is the sample (a lower bound: a queue seconds deep is seen
   * while it lasts, not only once the probe gets through); once it is answered, its delay. A new
   * probe starts when none is waiting, so at most one connection is out at a time.
   */
  tick(): number | null {
    if (this.stopped) return null;
    if (this.socket !== null) return this.now() - this.startedAt;
    const finished = this.finishedMs;
    this.finishedMs = null;
    this.launch();
    return finished;
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
    this.socket = null;
  }

  private launch(): void {
    this.startedAt = this.now();
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.socket = socket;
    // The probe must never keep the process alive (nor delay a drain).
    socket.unref();
    socket.setTimeout(0);
    const done = (delivered: boolean) => {
      if (this.socket !== socket) return;
      if (delivered) this.finishedMs = this.now() - this.startedAt;
      this.socket = null;
      socket.destroy();
    };
    socket.once("data", () => done(true));
    // Refused (draining), reset or out of descriptors: no sample; the next tick tries again.
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
    socket.write(PROBE_REQUEST);
  }
}

/** The address to probe for a listener bound to `host`: a wildcard bind is reached through loopback. */
export function probeHostFor(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "::1";
  return host;
}
