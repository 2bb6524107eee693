/** Streams that go wrong: client disconnects, upstream cuts before or after the first byte, slow clients. */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chat, metricValue, readStream, scrape, sseData } from "../../helpers/http-client";
import { MockUpstream, type Behavior } from "../../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import type { TrafficControl } from "../../../gateway/src/traffic/types";

describe("stream failures", () => {
  let upstreams: MockUpstream[] = [];
  let gw: TestGateway | null = null;
  afterEach(async () => {
    await gw?.close();
    await Promise.all(upstreams.map((u) => u.stop()));
    upstreams = [];
    gw = null;
  });

  /** A gateway over one model whose targets behave as given, tried in order. */
  async function setup(behaviors: Behavior[], timeoutMs = 60_000): Promise<MockUpstream[]> {
    upstreams = await Promise.all(behaviors.map((b, i) => MockUpstream.start(`t${i}`, b)));
    gw = await startTestGateway({ models: [{ name: "m", strategy: "round-robin", targets: upstreams.map((u) => ({ name: u.name, baseUrl: u.baseUrl, timeoutMs })) }] });
    return upstreams;
  }

  it("aborts the upstream request when the client disconnects mid-stream", async () => {
    const [up] = await setup([{ kind: "ok", tokens: 40, interTokenMs: 50 }]);
    const res = await chat(gw!.url, { model: "m", stream: true }, { "x-request-id": "gone" });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await eventually(() => up.abortedByPeer === 1);
    expect(up.streamsCompleted).toBe(0);
    await eventually(() => gw!.logs().some((l) => l.msg === "request" && l.reqId === "gone"));
    expect(gw!.logs().find((l) => l.msg === "request" && l.reqId === "gone")).toMatchObject({ status: 499, target: "t0" });
    expect(metricValue(await scrape(gw!.url), "aigw_requests_total", { model: "m", status: "499" })).toBe(1);
    // Not counted against the upstream.
    expect(metricValue(await scrape(gw!.url), "aigw_streams_interrupted_total", { target: "t0" })).toBeNull();
  });

  it("aborts the upstream when the client leaves before the first byte", async () => {
    // The upstream never answers on its own: the client's leaving is what must end the call, however slow the machine.
    const [up] = await setup([{ kind: "hang" }]);
    const controller = new AbortController();
    const pending = fetch(`${gw!.url}/v1/chat/completions`, { method: "POST", signal: controller.signal, headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", stream: true, messages: [] }) });
    await eventually(() => up.completions.length === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await eventually(() => up.abortedByPeer === 1);
    await eventually(() => gw!.logs().some((l) => l.msg === "request" && l.status === 499));
  });

  it("calls no upstream when the client left while its request was being admitted", async () => {
    const [up] = await setup([{ kind: "ok", tokens: 20, interTokenMs: 20 }]);
    await gw!.close();
    let admitting = 0;
    let finishAdmission = () => {};
    const slowAdmission: TrafficControl = {
      passthrough: false,
      authenticate: async () => null,
      // Admission lasts until the test has seen the client's connection close: no race with a timer.
      admit: async () => {
        admitting++;
        await new Promise<void>((resolve) => (finishAdmission = resolve));
        return { headers: [], settle() {} };
      },
      cacheLookup: async () => ({ hit: null, key: null }),
      cacheStore() {},
      close: async () => {},
    };
    gw = await startTestGateway({ models: [{ name: "m", targets: [{ name: "t0", baseUrl: up.baseUrl }] }] }, { trafficControl: () => slowAdmission });
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/v1/chat/completions`, { method: "POST", signal: controller.signal, headers: { "content-type": "application/json", "x-request-id": "left-early" }, body: JSON.stringify({ model: "m", stream: true, messages: [] }) });
    await eventually(() => admitting === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    const server = gw.gateway.server;
    await eventually(() => new Promise<boolean>((resolve) => server.getConnections((_err, count) => resolve(count === 0))), 10_000);
    finishAdmission();
    await eventually(() => gw!.logs().some((l) => l.msg === "request" && l.reqId === "left-early"));
    expect(gw!.logs().find((l) => l.msg === "request" && l.reqId === "left-early")).toMatchObject({ status: 499, attempts: 0 });
    expect(up.completions).toHaveLength(0);
  });

  it.each<[string, Behavior]>([
    ["cut before the first byte", { kind: "cut-stream", afterEvents: 0 }],
    ["an empty stream", { kind: "garbage", body: "", contentType: "text/event-stream" }],
    ["no answer within the timeout", { kind: "hang" }],
  ])("retries a stream on another target after %s", async (_what, broken) => {
    const [bad, good] = await setup([broken, { kind: "ok", tokens: 5 }], 300);
    const res = await chat(gw!.url, { model: "m", stream: true });
    expect([res.status, res.headers.get("x-gateway-target"), res.headers.get("x-gateway-attempts")]).toEqual([200, "t1", "2"]);
    const events = sseData(await readStream(res));
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.some((e) => e.includes('"error"'))).toBe(false);
    expect([bad.completions.length, good.completions.length]).toEqual([1, 1]);
  });

  // The stall case's timeout is also its first-byte timeout: long enough that a loaded machine
  // still gets the first events through before it (else the answer fails over, whole, to the spare).
  it.each<[string, Behavior, number]>([
    ["cut", { kind: "cut-stream", afterEvents: 3 }, 300],
    ["stalled past the timeout", { kind: "cut-stream", afterEvents: 3, hang: true }, 1_500],
  ])("ends a stream %s after its first byte with an SSE error event and a clean close", async (_what, broken, timeoutMs) => {
    const [bad, spare] = await setup([broken, { kind: "ok" }], timeoutMs);
    const res = await chat(gw!.url, { model: "m", stream: true }, { "x-request-id": "cut" });
    expect(res.status).toBe(200);
    const text = await readStream(res);
    const events = sseData(text);
    expect(events).toHaveLength(4);
    expect(events.slice(0, 3).every((e) => JSON.parse(e).object === "chat.completion.chunk")).toBe(true);
    expect(JSON.parse(events[3])).toEqual({ error: { message: expect.any(String), type: "server_error", param: null, code: "upstream_stream_interrupted" } });
    expect(text.endsWith("\n\n")).toBe(true);
    // Bytes had reached the client: no other target is tried.
    expect([bad.completions.length, spare.completions.length]).toEqual([1, 0]);
    expect(metricValue(await scrape(gw!.url), "aigw_streams_interrupted_total", { model: "m", target: "t0" })).toBe(1);
    expect(gw!.logs().some((l) => l.msg === "upstream stream interrupted after the first byte" && l.reqId === "cut")).toBe(true);
  });
});

describe("maximum stream duration", () => {
  let up: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    up = await MockUpstream.start("endless", { kind: "ok", tokens: 200, interTokenMs: 20 });
    gw = await startTestGateway({ upstreamDefaults: { maxStreamMs: 300 }, models: [{ name: "m", targets: [{ name: "endless", baseUrl: up.baseUrl }] }] });
  });
  afterAll(async () => {
    await gw.close();
    await up.stop();
  });

  it("ends a stream that runs past maxStreamMs with an SSE error and aborts the upstream", async () => {
    const events = sseData(await readStream(await chat(gw.url, { model: "m", stream: true })));
    expect(events.length).toBeLessThan(200);
    expect(JSON.parse(events.at(-1)!).error).toMatchObject({ code: "upstream_stream_interrupted", message: expect.stringContaining("maximum duration") });
    await eventually(() => up.abortedByPeer === 1);
    expect(up.streamsCompleted).toBe(0);
  });
});

describe("backpressure", () => {
  const TOTAL = 48 * 1024 * 1024;
  let upstream: Server;
  let written = 0;
  let gw: TestGateway;
  beforeAll(async () => {
    const event = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x".repeat(1000) } }] })}\n\n`;
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const pump = () => {
          while (written < TOTAL) {
            written += event.length;
            if (!res.write(event)) return void res.once("drain", pump);
          }
          res.end("data: [DONE]\n\n");
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    gw = await startTestGateway({ logging: { level: "info" }, models: [{ name: "m", targets: [{ name: "fast", baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1` }] }] });
  });
  afterAll(async () => {
    await gw.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it("pauses the upstream while the client does not read, and delivers everything once it does", async () => {
    const { port } = new URL(gw.url);
    const received = await new Promise<{ bytes: number; tail: string; stalledAt: number }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json" } }, (res) => {
        res.once("data", (first: Buffer) => {
          res.pause();
          let last = -1;
          // Wait for the upstream to stall: its written count stops moving while the client reads nothing.
          eventually(() => {
            const stalled = written === last;
            last = written;
            return stalled;
          }, 10_000, 200).then(() => {
            const stalledAt = written;
            let bytes = first.length;
            let tail = "";
            res.on("data", (chunk: Buffer) => {
              bytes += chunk.length;
              tail = (tail + chunk.toString("latin1")).slice(-64);
            });
            res.on("end", () => resolve({ bytes, tail, stalledAt }));
            res.resume();
          }, reject);
        });
      });
      req.on("error", reject);
      req.end(JSON.stringify({ model: "m", stream: true, messages: [] }));
    });
    expect(received.stalledAt).toBeLessThan(TOTAL / 2);
    expect(received.bytes).toBeGreaterThanOrEqual(TOTAL);
    expect(received.tail.endsWith("data: [DONE]\n\n")).toBe(true);
  });
});
