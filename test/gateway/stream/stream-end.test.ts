/**
 * A started stream runs on from callbacks (upstream/stream-delivery.ts) after the handler has
 * returned, and its request ends from there (handlers/request-end.ts). Whichever way it ends
 * (the upstream finishes, the client leaves, the upstream breaks off, the client stops reading,
 * the maximum duration passes) it must end exactly once: one access line, one count in
 * `aigw_requests_total`, its tokens counted once, the in-flight gauge back to zero, and the
 * key's single concurrency slot free again (a settlement that never ran would hold it for ever).
 */
import { connect, type Socket } from "node:net";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { chat, metricValue, readStream, scrape } from "../../helpers/http-client";
import { MockUpstream, NextBehavior, type Behavior } from "../../helpers/mock-upstream";

const KEY = "sk-stream-end-one-slot-51c9e7";
const DELTA = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n';
/** Two events, then the upstream holds the stream open and silent (until the gateway leaves). */
const HELD: Behavior = { kind: "sse", chunks: [DELTA, DELTA, DELTA], holdAt: 2 };
const auth = { authorization: `Bearer ${KEY}` };

describe("a started stream ends exactly once, whichever way it ends", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  /** The next upstream request answers as told with once(); every later one normally. */
  const script = new NextBehavior();
  const sockets: Socket[] = [];

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", script.take);
    gw = await startTestGateway({
      // A write left unread for 300 ms cuts the client; a stream lasts 1.5 s at most.
      server: { writeTimeoutMs: 300 },
      upstreamDefaults: { maxAttempts: 1, maxStreamMs: 1_500, timeoutMs: 60_000, deadlineMs: 60_000 },
      passiveHealth: { failures: 1_000 },
      auth: { required: true },
      plans: { one: { concurrent: 1, requestsPerMinute: 100_000 } },
      keys: [{ name: "k", key: KEY, plan: "one" }],
      limits: { store: "memory" },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await gw.close();
    await upstream.stop();
  });

  const accessLines = (reqId: string) => gw.logs().filter((l) => l.msg === "request" && l.reqId === reqId);
  const requestsCounted = async () => {
    const text = await scrape(gw.url);
    let sum = 0;
    for (const line of text.split("\n")) if (line.startsWith("aigw_requests_total{") && line.includes('route="chat.completions"')) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    return sum;
  };

  /** A streaming request on a raw socket that reads nothing (the client stops reading at once). */
  function nonReadingStream(reqId: string): Socket {
    const { hostname, port } = new URL(gw.url);
    const body = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
    const socket = connect({ host: hostname, port: Number(port) });
    socket.pause();
    socket.on("error", () => {});
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${KEY}\r\nx-request-id: ${reqId}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    sockets.push(socket);
    return socket;
  }

  /** After the request `reqId` ended: one line, counted once, nothing in flight, the slot free. */
  async function expectEndedOnce(reqId: string, countedBefore: number): Promise<Record<string, unknown>> {
    await eventually(() => accessLines(reqId).length > 0, 15_000);
    await eventually(async () => metricValue(await scrape(gw.url), "aigw_inflight_requests") === 0, 15_000);
    // A second settlement or line would come from a later callback: give it a moment to show.
    await new Promise((r) => setTimeout(r, 100));
    expect(accessLines(reqId)).toHaveLength(1);
    expect(await requestsCounted()).toBe(countedBefore + 1);
    const res = await chat(gw.url, { model: "m" }, auth);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return accessLines(reqId)[0];
  }

  it("the upstream finishes: status 200, its usage counted once", async () => {
    const before = await requestsCounted();
    const tokensBefore = metricValue(await scrape(gw.url), "aigw_tokens_total", { model: "m", kind: "completion" }) ?? 0;
    const text = await readStream(await chat(gw.url, { model: "m", stream: true }, { ...auth, "x-request-id": "end-normal" }));
    expect(text).toContain("[DONE]");
    const line = await expectEndedOnce("end-normal", before);
    expect(line).toMatchObject({ status: 200, stream: true, completionTokens: 4 });
    expect(line.interrupted).toBeUndefined();
    // 4 tokens for the stream, 4 for expectEndedOnce's own request after it.
    expect(metricValue(await scrape(gw.url), "aigw_tokens_total", { model: "m", kind: "completion" })).toBe(tokensBefore + 8);
  });

  it("the client leaves mid-stream: 499, the upstream aborted", async () => {
    const before = await requestsCounted();
    const aborted = upstream.abortedByPeer;
    script.once(HELD);
    const res = await chat(gw.url, { model: "m", stream: true }, { ...auth, "x-request-id": "end-client-left" });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const line = await expectEndedOnce("end-client-left", before);
    expect(line).toMatchObject({ status: 499 });
    expect(line.interrupted).toBeUndefined();
    expect(upstream.abortedByPeer).toBe(aborted + 1);
  });

  it("the upstream breaks off after the first byte: an error event, logged as interrupted", async () => {
    const before = await requestsCounted();
    const interrupted = metricValue(await scrape(gw.url), "aigw_streams_interrupted_total", { model: "m", target: "up" }) ?? 0;
    script.once({ kind: "cut-stream", afterEvents: 2 });
    const text = await readStream(await chat(gw.url, { model: "m", stream: true }, { ...auth, "x-request-id": "end-cut" }));
    expect(text).toContain("interrupted");
    expect(text).not.toContain("[DONE]");
    const line = await expectEndedOnce("end-cut", before);
    expect(line).toMatchObject({ status: 200, interrupted: true });
    expect(metricValue(await scrape(gw.url), "aigw_streams_interrupted_total", { model: "m", target: "up" })).toBe(interrupted + 1);
  });

  it("the client stops reading: cut after the write timeout, the paused upstream aborted", async () => {
    const before = await requestsCounted();
    const aborted = upstream.abortedByPeer;
    // Endless: the gateway's writes back up against the client that reads nothing.
    script.once({ kind: "endless", sse: true });
    const socket = nonReadingStream("end-stalled");
    const line = await expectEndedOnce("end-stalled", before);
    expect(line).toMatchObject({ status: 499 });
    expect(upstream.abortedByPeer).toBe(aborted + 1);
    socket.destroy();
  }, 30_000);

  it("the maximum duration passes: an error event ends it, the upstream aborted", async () => {
    const before = await requestsCounted();
    const aborted = upstream.abortedByPeer;
    // Held and silent, not endless: a client slower than an endless upstream would meet the write timeout first.
    script.once(HELD);
    const startedAt = Date.now();
    const text = await readStream(await chat(gw.url, { model: "m", stream: true }, { ...auth, "x-request-id": "end-max" }));
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_400);
    expect(text).toContain("maximum duration");
    const line = await expectEndedOnce("end-max", before);
    expect(line).toMatchObject({ status: 200, interrupted: true });
    expect(upstream.abortedByPeer).toBe(aborted + 1);
  }, 30_000);
});
