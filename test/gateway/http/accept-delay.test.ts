/**
 * The accept-delay probe against real listeners: what it measures (a stalled loop, a queue of
 * connections ahead of it), that a probe still waiting reports its age, that a refused probe gives
 * no sample.
 */
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { AcceptDelayProbe, probeHostFor } from "../../../gateway/src/http/accept-delay";

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the loop is stalled: nothing is accepted meanwhile
  }
}

function healthzServer(host = "127.0.0.1"): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((req, res) => {
    res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "text/plain" });
    res.end("ok");
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

/** Ticks the probe every 20 ms until it reports a sample (the shortest delay answered in the last second). */
async function nextSample(probe: AcceptDelayProbe): Promise<number> {
  for (let i = 0; i < 500; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const sample = probe.tick();
    if (sample !== null) return sample;
  }
  throw new Error("no probe answered within 10 s");
}

describe("accept-delay probe", () => {
  let server: HttpServer | null = null;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = null;
  });

  it("measures connect to the first byte of /healthz: a few ms on an idle loop, at least the stall when the loop stalls", async () => {
    const started = await healthzServer();
    server = started.server;
    const probe = new AcceptDelayProbe({ host: "127.0.0.1", port: started.port });
    expect(probe.tick()).toBeNull(); // the first tick sends the first probe; nothing answered yet
    const idle = await nextSample(probe);
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThan(2_000); // generous: a loaded machine

    // Let the idle answers leave the window, send one probe, and stall the loop behind it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(probe.tick()).toBeNull();
    busyWait(400);
    for (let i = 0; i < 500 && probe.outstanding > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const stalled = probe.tick();
    expect(stalled).not.toBeNull();
    expect(stalled!).toBeGreaterThanOrEqual(400);
    probe.stop();
  });

  it("takes the shortest delay of the last second: a burst ahead of some probes does not raise it while later probes get through", async () => {
    const started = await healthzServer();
    server = started.server;
    let clock = 0;
    const probe = new AcceptDelayProbe({ host: "127.0.0.1", port: started.port }, () => clock);
    // Four probes sent at 0, 100, 200, 300 (fake clock), answered at 350: 350, 250, 150, 50 ms.
    for (const at of [0, 100, 200, 300]) {
      clock = at;
      probe.tick();
    }
    clock = 350;
    for (let i = 0; i < 200 && probe.outstanding > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(probe.outstanding).toBe(0);
    clock = 400;
    expect(probe.tick()).toBe(50);
    // A second on, those answers have left the window; the probe sent at 400 was answered at 400.
    for (let i = 0; i < 200 && probe.outstanding > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    clock = 1_360;
    expect(probe.tick()).toBe(0);
    probe.stop();
  });

  it("keeps at most 16 probes out: behind a deep queue they wait to be answered, and are given up only after 30 s", async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket)); // never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    let clock = 0;
    const probe = new AcceptDelayProbe({ host: "127.0.0.1", port: (silent.address() as AddressInfo).port }, () => clock);
    for (let i = 0; i < 40; i++, clock += 100) expect(probe.tick()).toBeNull();
    expect(probe.outstanding).toBe(16);
    // Nothing answered: the oldest probe's wait (sent at 0, now 4,000) is what is known of the queue.
    expect(probe.oldestWaitingMs()).toBe(4_000);
    clock = 30_001; // the first probe (sent at 0) is given up, one new one sent
    expect(probe.tick()).toBeNull();
    expect(probe.outstanding).toBe(16);
    probe.stop();
    expect(probe.outstanding).toBe(0);
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("gives no sample when the probes are refused (a draining listener)", async () => {
    const started = await healthzServer();
    const port = started.port;
    await new Promise((resolve) => started.server.close(resolve));
    const probe = new AcceptDelayProbe({ host: "127.0.0.1", port });
    expect(probe.tick()).toBeNull();
    for (let i = 0; i < 50 && probe.outstanding > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(probe.outstanding).toBe(0);
    expect(probe.tick()).toBeNull();
    // Refused at once: the probe out is the one just sent, so no queue is known (shedding on the
    // accept delay lets go instead of staying on for lack of answers).
    expect(probe.oldestWaitingMs()).toBeLessThan(1_000);
    probe.stop();
    expect(probe.tick()).toBeNull();
    expect(probe.oldestWaitingMs()).toBeNull();
  });

  it("probes a wildcard listener through loopback", () => {
    expect(probeHostFor("0.0.0.0")).toBe("127.0.0.1");
    expect(probeHostFor("::")).toBe("127.0.0.1");
    expect(probeHostFor("10.1.2.3")).toBe("10.1.2.3");
  });

  it("measures a listener bound to :: through 127.0.0.1 (dual stack; no ::1 needed)", async () => {
    const started = await healthzServer("::");
    server = started.server;
    const probe = new AcceptDelayProbe({ host: probeHostFor("::"), port: started.port });
    expect(probe.tick()).toBeNull();
    expect(await nextSample(probe)).toBeGreaterThanOrEqual(0);
    probe.stop();
  });
});
