/**
 * The overload policy and its timing parts without HTTP: the lag hysteresis, the shed decision,
 * the event-loop lag sampler against a real stalled loop, and the I/O-fair timeout.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { EventLoopLagSampler } from "../../../gateway/src/http/event-loop-lag";
import { ioFairTimeout } from "../../../gateway/src/http/io-fair-timeout";
import { AcceptDelayHysteresis, acceptQueueMs, LagHysteresis, UtilizationHysteresis, effectiveMaxInFlight, shedReasonFor } from "../../../gateway/src/http/overload";

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the loop is stalled
  }
}

describe("lag hysteresis", () => {
  it("starts on the second sample in a row at the threshold, not on a lone spike", () => {
    const h = new LagHysteresis(400, 1_000);
    expect(h.observe(399, 0)).toBe(false);
    expect(h.observe(2_000, 100)).toBe(false);
    expect(h.observe(10, 200)).toBe(false);
    expect(h.observe(400, 300)).toBe(false);
    expect(h.observe(400, 400)).toBe(true);
  });

  it("stops only after a calm second under half the threshold", () => {
    const h = new LagHysteresis(400, 1_000);
    h.observe(500, 0);
    expect(h.observe(500, 100)).toBe(true);
    // Under the threshold but above half: still shedding, and the calm clock does not start.
    expect(h.observe(250, 200)).toBe(true);
    expect(h.observe(100, 300)).toBe(true);
    expect(h.observe(100, 1_200)).toBe(true);
    // A sample back above half restarts the calm clock; one at the threshold keeps shedding.
    expect(h.observe(300, 1_250)).toBe(true);
    expect(h.observe(450, 1_260)).toBe(true);
    expect(h.observe(10, 1_300)).toBe(true);
    expect(h.observe(10, 2_299)).toBe(true);
    expect(h.observe(10, 2_300)).toBe(false);
    expect(h.observe(10, 2_400)).toBe(false);
  });

  it("is off with a threshold of 0, and a reload to 0 stops shedding at once", () => {
    expect(new LagHysteresis(0).observe(60_000, 0)).toBe(false);
    const h = new LagHysteresis(200);
    h.observe(500, 0);
    expect(h.observe(500, 50)).toBe(true);
    h.setMax(0);
    expect(h.shedding).toBe(false);
    expect(h.observe(500, 100)).toBe(false);
  });
});

describe("accept-delay hysteresis", () => {
  it("starts on two samples in a row at the threshold, stops after a calm second under half of it", () => {
    const h = new AcceptDelayHysteresis(1_000);
    expect(h.observe(2_500, 0)).toBe(false);
    expect(h.observe(900, 100)).toBe(false);
    expect(h.observe(1_000, 200)).toBe(false);
    expect(h.observe(1_100, 300)).toBe(true);
    // A queue draining: under the threshold but over half keeps shedding.
    expect(h.observe(700, 400)).toBe(true);
    expect(h.observe(400, 500)).toBe(true);
    expect(h.observe(30, 1_000)).toBe(true);
    expect(h.observe(30, 1_500)).toBe(false);
  });

  it("is off at 0 (a reload to 0 stops at once), and ranks after lag and before utilisation", () => {
    expect(new AcceptDelayHysteresis(0).observe(60_000, 0)).toBe(false);
    const h = new AcceptDelayHysteresis(500);
    h.observe(600, 0);
    expect(h.observe(600, 100)).toBe(true);
    h.setMax(0);
    expect(h.shedding).toBe(false);
    expect(shedReasonFor(0, 10, false, false, 0, null, true)).toBe("accept_delay");
    expect(shedReasonFor(0, 10, true, false, 0, null, true)).toBe("event_loop_lag");
    expect(shedReasonFor(0, 10, false, true, 0, null, true)).toBe("accept_delay");
    expect(shedReasonFor(10, 10, false, false, 0, null, true)).toBe("in_flight");
  });
});

describe("accept queue", () => {
  it("is the probe's delay less three turns of the loop (a turn: the last second's highest lag plus the tick)", () => {
    // Short turns: 2.5 s of delay is 2.2 s of queue.
    expect(acceptQueueMs(2_500, 0, 100)).toBe(2_200);
    // A starved loop with 300 ms turns answers a probe in about a second: no queue.
    expect(acceptQueueMs(1_100, 250, 100)).toBe(50);
    expect(acceptQueueMs(900, 250, 100)).toBe(0);
  });
});

describe("shed decision", () => {
  it("sheds at the ceiling (0: none), then on lag, else admits", () => {
    expect(shedReasonFor(2, 3, false)).toBeNull();
    expect(shedReasonFor(3, 3, false)).toBe("in_flight");
    expect(shedReasonFor(3, 3, true)).toBe("in_flight");
    expect(shedReasonFor(1_000_000, 0, false)).toBeNull();
    expect(shedReasonFor(0, 0, true)).toBe("event_loop_lag");
  });

  it("sheds past the connection ceiling (null: none), after the in-flight one", () => {
    expect(shedReasonFor(0, 10, false, false, 129, 128)).toBe("open_connections");
    expect(shedReasonFor(0, 10, false, false, 128, 128)).toBeNull();
    expect(shedReasonFor(10, 10, false, false, 129, 128)).toBe("in_flight");
    expect(shedReasonFor(0, 10, false, false, 1_000_000, null)).toBeNull();
  });

  it("keeps the in-flight ceiling within what the open-file limit allows", () => {
    expect(effectiveMaxInFlight(12_000, 9_872)).toBe(9_872);
    expect(effectiveMaxInFlight(500, 9_872)).toBe(500);
    expect(effectiveMaxInFlight(0, 9_872)).toBe(9_872);
    expect(effectiveMaxInFlight(12_000, null)).toBe(12_000);
    expect(effectiveMaxInFlight(0, null)).toBe(0);
  });
});

describe("event-loop lag sampler", () => {
  it("reports a stalled loop as a late tick of about the stall's length", async () => {
    const samples: number[] = [];
    const sampler = new EventLoopLagSampler((lag) => samples.push(lag), 20);
    sampler.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      busyWait(300);
      await new Promise((resolve) => setTimeout(resolve, 60));
      // The stall shows as one late tick of at least most of its length.
      expect(Math.max(...samples)).toBeGreaterThanOrEqual(250);
      expect(samples.length).toBeGreaterThanOrEqual(2);
    } finally {
      sampler.stop();
    }
  });
});

describe("I/O-fair timeout", () => {
  let server: Server;
  let serverSide: Socket;
  let client: Socket;
  beforeEach(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    client = connect((server.address() as AddressInfo).port, "127.0.0.1");
    serverSide = await accepted;
  });
  afterEach(async () => {
    client.destroy();
    serverSide.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("lets data that arrived during a stall cancel it, where a plain timer would have fired first", async () => {
    let fairFired = false;
    let plainFired = false;
    let plainFiredBeforeData = false;
    let dataSeen = false;
    const fair = ioFairTimeout(() => (fairFired = true), 50);
    const plain = setTimeout(() => {
      plainFired = true;
      plainFiredBeforeData = !dataSeen;
    }, 50);
    const arrived = new Promise<void>((resolve) =>
      serverSide.once("data", () => {
        dataSeen = true;
        fair.clear();
        clearTimeout(plain);
        resolve();
      }),
    );
    client.write("x");
    // The data reaches the kernel at once, but the loop is stalled past both deadlines.
    busyWait(200);
    await arrived;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(plainFired && plainFiredBeforeData).toBe(true);
    expect(fairFired).toBe(false);
  });

  it("fires when nothing arrives", async () => {
    const fired = await new Promise<number>((resolve) => {
      const started = performance.now();
      ioFairTimeout(() => resolve(performance.now() - started), 30);
    });
    expect(fired).toBeGreaterThanOrEqual(29);
  });
});

describe("utilisation hysteresis", () => {
  it("starts on two windows in a row at the threshold, stops after two windows 0.1 under it", () => {
    const h = new UtilizationHysteresis(0.95);
    expect(h.observe(1, 0)).toBe(false);
    expect(h.observe(0.5, 1_000)).toBe(false);
    expect(h.observe(0.96, 2_000)).toBe(false);
    expect(h.observe(1, 3_000)).toBe(true);
    expect(h.observe(0.9, 4_000)).toBe(true);
    expect(h.observe(0.8, 5_000)).toBe(true);
    expect(h.observe(0.8, 6_000)).toBe(false);
    expect(new UtilizationHysteresis(0).observe(1, 0)).toBe(false);
  });

  it("is the last reason checked", () => {
    expect(shedReasonFor(0, 10, false, true)).toBe("event_loop_utilization");
    expect(shedReasonFor(0, 10, true, true)).toBe("event_loop_lag");
    expect(shedReasonFor(10, 10, true, true)).toBe("in_flight");
  });
});
