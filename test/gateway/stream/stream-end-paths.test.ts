/**
 * More ways a proxied request ends, each of which must end it exactly once: one access line, the
 * in-flight gauge and every target's in-flight count back to zero, and the key's single
 * concurrency slot free again. Complements stream-end.test.ts (upstream finishes, client leaves
 * mid-stream, upstream cut, client stops reading, maximum duration) with: the client leaving
 * before the first byte, translated dialects (Anthropic Messages, Responses) left mid-stream,
 * failover from a stream that broke after its head, and a stream whose relay throws on a chunk
 * that came in the same read as the first one (kept before attach).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { chat, metricValue, readStream, scrape } from "../../helpers/http-client";
import { MockUpstream, NextBehavior, type Behavior } from "../../helpers/mock-upstream";
import { StreamRedactor } from "../../../gateway/src/upstream/redact";

const KEY = "sk-stream-end-paths-one-slot-7d1";
const auth = { authorization: `Bearer ${KEY}` };
const DELTA = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n';
const HELD: Behavior = { kind: "sse", chunks: [DELTA, DELTA, DELTA], holdAt: 2 };

/**
 * An upstream on a raw socket: answers every request with an SSE head and `events` as separate
 * chunked-encoding chunks in ONE write (undici parses them in one read: the first settles the
 * attempt, the rest arrive before the gateway attaches), then holds the connection open.
 */
async function rawSseUpstream(events: string[]): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = "";
    let answered = false;
    socket.on("data", (data: Buffer) => {
      buffered += data.toString("latin1");
      const headEnd = buffered.indexOf("\r\n\r\n");
      if (answered || headEnd === -1) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
      if (buffered.length < headEnd + 4 + length) return;
      answered = true;
      let out = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
      for (const event of events) out += `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`;
      socket.write(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("a proxied request ends exactly once, on the paths stream-end.test.ts does not drive", () => {
  let upstream: MockUpstream;
  let broken: MockUpstream;
  let raw: { baseUrl: string; close(): Promise<void> };
  let cut: MockUpstream;
  let gw: TestGateway;
  /** The next upstream request answers as told with once(); every later one normally. */
  const script = new NextBehavior();
  const sockets: Socket[] = [];

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", script.take);
    // Answers a stream's head, then resets before any body byte: the gateway fails over.
    broken = await MockUpstream.start("broken", { kind: "cut-stream", afterEvents: 0 });
    raw = await rawSseUpstream([DELTA, DELTA.replace('"hi"', '"BOOM"'), DELTA]);
    // Two events, then a reset: the stream ends through its error event.
    cut = await MockUpstream.start("cut", { kind: "cut-stream", afterEvents: 2 });
    gw = await startTestGateway({
      server: { writeTimeoutMs: 300 },
      upstreamDefaults: { maxAttempts: 2, maxStreamMs: 60_000, timeoutMs: 60_000, deadlineMs: 60_000 },
      passiveHealth: { failures: 1_000 },
      auth: { required: true },
      plans: { one: { concurrent: 1, requestsPerMinute: 100_000 } },
      keys: [{ name: "k", key: KEY, plan: "one" }],
      limits: { store: "memory" },
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "fo", strategy: "round-robin", targets: [{ name: "broken", baseUrl: broken.baseUrl }, { name: "up2", baseUrl: upstream.baseUrl }] },
        { name: "raw", targets: [{ name: "raw", baseUrl: raw.baseUrl }] },
        { name: "cut", targets: [{ name: "cut", baseUrl: cut.baseUrl }] },
      ],
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    for (const socket of sockets) socket.destroy();
    await gw.close();
    await upstream.stop();
    await broken.stop();
    await raw.close();
    await cut.stop();
  });

  const accessLines = (reqId: string) => gw.logs().filter((l) => l.msg === "request" && l.reqId === reqId);
  const targetsInflight = () => gw.gateway.runtime.router.allTargets.map((t) => `${t.name}:${t.inflight}`);

  /** A request on a raw socket (read and discarded): destroy the socket to leave. */
  function rawRequest(path: string, body: Record<string, unknown>, reqId: string): Socket {
    const { hostname, port } = new URL(gw.url);
    const text = JSON.stringify(body);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${KEY}\r\nx-request-id: ${reqId}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    sockets.push(socket);
    return socket;
  }

  /** After `reqId` ended: one line, nothing in flight anywhere, the key's one slot free. */
  async function expectEndedOnce(reqId: string): Promise<Record<string, unknown>> {
    await eventually(() => accessLines(reqId).length > 0, 15_000);
    await eventually(async () => metricValue(await scrape(gw.url), "aigw_inflight_requests") === 0, 15_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(accessLines(reqId)).toHaveLength(1);
    expect(targetsInflight()).toEqual(gw.gateway.runtime.router.allTargets.map((t) => `${t.name}:0`));
    const res = await chat(gw.url, { model: "m" }, auth);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return accessLines(reqId)[0];
  }

  const upInflight = () => gw.gateway.runtime.router.allTargets.find((t) => t.name === "up")!.inflight;

  it("the client leaves before the first byte: 499, the upstream request aborted", async () => {
    const aborted = upstream.abortedByPeer;
    script.once({ kind: "hang" });
    const socket = rawRequest("/v1/chat/completions", { model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }, "paths-before-first");
    await eventually(() => upInflight() === 1, 5_000);
    socket.destroy();
    const line = await expectEndedOnce("paths-before-first");
    expect(line).toMatchObject({ status: 499 });
    await eventually(() => upstream.abortedByPeer === aborted + 1, 5_000);
  });

  it.each([
    ["Anthropic Messages", "/v1/messages", { model: "m", max_tokens: 50, stream: true, messages: [{ role: "user", content: "hi" }] }, "paths-messages-left"],
    ["Responses", "/v1/responses", { model: "m", stream: true, input: "hi" }, "paths-responses-left"],
  ] as const)("%s translated to a Chat upstream, left mid-stream: 499, ended once", async (_dialect, path, body, reqId) => {
    script.once(HELD);
    const socket = rawRequest(path, body, reqId);
    await eventually(() => upInflight() === 1, 5_000);
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    const line = await expectEndedOnce(reqId);
    expect(line).toMatchObject({ status: 499 });
  });

  it("a stream that broke after its head, before its first byte, fails over: 200 from the next target, every count back", async () => {
    // Round-robin over the two targets: one of two requests meets the broken one first.
    const attempts: unknown[] = [];
    for (const reqId of ["paths-failover-1", "paths-failover-2"]) {
      const text = await readStream(await chat(gw.url, { model: "fo", stream: true }, { ...auth, "x-request-id": reqId }));
      expect(text).toContain("[DONE]");
      const line = await expectEndedOnce(reqId);
      expect(line).toMatchObject({ status: 200 });
      attempts.push(line.attempts);
    }
    expect(attempts).toContain(2);
  });

  it("a relay that throws on a chunk kept before attach: the request ends once and the target's in-flight count is given back once", async () => {
    const original = StreamRedactor.prototype.push;
    const spy = jest.spyOn(StreamRedactor.prototype, "push").mockImplementation(function (this: StreamRedactor, chunk: Buffer) {
      if (chunk.includes("BOOM")) throw new Error("relay failed");
      return original.call(this, chunk);
    });
    try {
      const res = await chat(gw.url, { model: "raw", stream: true }, { ...auth, "x-request-id": "paths-relay-throws" });
      // The client gets what was relayed, then the stream's error event and a clean end.
      const text = await res.text();
      expect(text).toContain('"hi"');
      expect(text).toContain("upstream_stream_interrupted");
      const line = await expectEndedOnce("paths-relay-throws");
      expect(line).toMatchObject({ status: 200, interrupted: true });
      expect(gw.logs().some((l) => l.reqId === "paths-relay-throws" && l.msg === "stream relay failed")).toBe(true);
      expect(gw.gateway.runtime.router.allTargets.find((t) => t.name === "raw")!.inflight).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
  it("an upstream cut whose error event cannot be made: the client is cut and the request still ends once", async () => {
    const original = StreamRedactor.prototype.push;
    const spy = jest.spyOn(StreamRedactor.prototype, "push").mockImplementation(function (this: StreamRedactor, chunk: Buffer) {
      if (chunk.includes("upstream_stream_interrupted")) throw new Error("error event failed");
      return original.call(this, chunk);
    });
    try {
      const res = await chat(gw.url, { model: "cut", stream: true }, { ...auth, "x-request-id": "paths-fail-throws" });
      await res.text().catch(() => "");
      const line = await expectEndedOnce("paths-fail-throws");
      expect(line).toMatchObject({ status: 200, interrupted: true });
      expect(gw.logs().some((l) => l.reqId === "paths-fail-throws" && l.msg === "stream relay failed")).toBe(true);
      expect(gw.gateway.runtime.router.allTargets.find((t) => t.name === "cut")!.inflight).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("a drain with a stream still open", () => {
  it("cuts the stream at the end of the grace period and ends its request once (line, in-flight counts)", async () => {
    const upstream = await MockUpstream.start("up", HELD);
    const gw = await startTestGateway({
      upstreamDefaults: { maxAttempts: 1, maxStreamMs: 60_000, timeoutMs: 60_000, deadlineMs: 60_000 },
      auth: { required: true },
      plans: { one: { concurrent: 1, requestsPerMinute: 100_000 } },
      keys: [{ name: "k", key: KEY, plan: "one" }],
      limits: { store: "memory" },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
    });
    try {
      const res = await chat(gw.url, { model: "m", stream: true }, { ...auth, "x-request-id": "drain-open-stream" });
      const reader = res.body!.getReader();
      await reader.read();
      const startedAt = Date.now();
      await gw.gateway.shutdown(300);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      await reader.cancel().catch(() => {});
      await eventually(() => gw.logs().filter((l) => l.msg === "request" && l.reqId === "drain-open-stream").length > 0, 5_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(gw.logs().filter((l) => l.msg === "request" && l.reqId === "drain-open-stream")).toHaveLength(1);
      expect(gw.gateway.runtime.overload.inFlight).toBe(0);
      expect(gw.gateway.runtime.router.allTargets.map((t) => t.inflight)).toEqual([0]);
    } finally {
      await upstream.stop();
    }
  }, 30_000);
});
