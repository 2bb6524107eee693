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

function healthzServer(): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((req, res) => {
    res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "text/plain" });
    res.end("ok");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

/** Ticks the probe every 20 ms until it reports a finished probe's delay (its first tick launches it). */
async function finishedSample(probe: AcceptDelayProbe, whileWaiting: (ageMs: number) => void = () => {}): Promise<number> {
  for (let i = 0; i < 500; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waiting = probeOutstanding(probe);
    const sample = probe.tick();
    if (sample === null) continue;
    if (waiting) whileWaiting(sample);
    else return sample;
  }
  throw new Error("no finished probe within 10 s");
}

function probeOutstanding(probe: AcceptDelayProbe): boolean {
  return (probe as unknown as { socket: unknown }).socket !== null;
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
    expect(probe.tick()).toBeNull(); // the first tick launches the first probe
    const idle = await finishedSample(probe);
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThan(2_000); // generous: a loaded machine

    // The tick that reported it launched the next probe: stall the loop, and it waits behind the stall.
    busyWait(400);
    const stalled = await finishedSample(probe);
    expect(stalled).toBeGreaterThanOrEqual(400);
    probe.stop();
  });

  it("reports a probe still waiting by its age so far, so a deep queue is seen while it lasts", async () => {
    // A listener that never answers: the probe gets no first byte, as behind a queue that long.
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    const port = (silent.address() as AddressInfo).port;
    const probe = new AcceptDelayProbe({ host: "127.0.0.1", port });
    expect(probe.tick()).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const age = probe.tick();
    expect(age).not.toBeNull();
    expect(age!).toBeGreaterThanOrEqual(250);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(probe.tick()!).toBeGreaterThan(age!);
    probe.stop();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("gives no sample when the probe is refused (a draining listener), and tries again on the next tick", async () => {
    const started = await healthzServer();
    const port = started.port;
    await new Promise((resolve) => started.server.close(resolve));
    const probe = new AcceptDelayProbe({ host: "127.0.0.1", port });
    expect(probe.tick()).toBeNull();
    for (let i = 0; i < 20 && probeOutstanding(probe); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(probeOutstanding(probe)).toBe(false);
    expect(probe.tick()).toBeNull(); // refused: nothing to report; a new probe is out
    expect(probeOutstanding(probe)).toBe(true);
    probe.stop();
    expect(probe.tick()).toBeNull();
  });

  it("probes a wildcard listener through loopback", () => {
    expect(probeHostFor("0.0.0.0")).toBe("127.0.0.1");
    expect(probeHostFor("::")).toBe("::1");
    expect(probeHostFor("10.1.2.3")).toBe("10.1.2.3");
  });
});
