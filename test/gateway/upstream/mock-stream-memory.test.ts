/**
 * The built-in mock stays lean for long streams: its open streams cost a small, bounded heap
 * each, alone and through the gateway (the mock once built every event of a stream up front and
 * kept every timer it had used: about 800 KB a stream of 2,000 tokens).
 */
import { connect, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Dispatcher } from "undici";
import type { TargetConfig } from "../../../gateway/src/config/schema";
import { MockDispatcher } from "../../../gateway/src/upstream/mock-dispatcher";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const STREAMS = 500;
const TOKENS = 2_000;
const BODY = JSON.stringify({ model: "long", stream: true, messages: [{ role: "user", content: "a long answer" }] });

interface StreamClient {
  socket: Socket;
  bytes: number;
}

/** A streaming request on a raw socket, its answer counted and dropped (the client costs little). */
function openStream(url: string): StreamClient {
  const { hostname, port } = new URL(url);
  const client: StreamClient = { socket: connect({ host: hostname, port: Number(port) }), bytes: 0 };
  client.socket.on("data", (chunk: Buffer) => (client.bytes += chunk.length));
  client.socket.on("error", () => {});
  client.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);
  return client;
}

/** Heap in use once garbage is collected (twice: weak references and finalizers settle). */
async function heapUsed(): Promise<number> {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return process.memoryUsage().heapUsed;
}

/** A handler that counts what the mock sends and keeps nothing else. */
function countingHandler(counts: { bytes: number; ended: number }): Dispatcher.DispatchHandler {
  return {
    onResponseData: (_c, chunk) => void (counts.bytes += chunk.length),
    onResponseEnd: () => void counts.ended++,
    onResponseError: () => void counts.ended++,
  };
}

describe("the mock dispatcher's open streams", () => {
  it("hold under 4 KB of heap each (2,000 streams of 2,000 tokens)", async () => {
    const target: TargetConfig = { name: "t", baseUrl: "mock://t", provider: "openai", weight: 1, headers: {}, mock: { latencyMs: 0, ttftMs: 0, interTokenMs: 50, tokens: TOKENS } };
    const mock = new MockDispatcher(target);
    const counts = { bytes: 0, ended: 0 };
    const controllers: Dispatcher.DispatchController[] = [];
    const body = Buffer.from(JSON.stringify({ model: "m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "x".repeat(4_000) }] }));
    const before = await heapUsed();
    for (let i = 0; i < 2_000; i++) {
      mock.dispatch({ method: "POST", path: "/v1/chat/completions", body } as Dispatcher.DispatchOptions, { ...countingHandler(counts), onRequestStart: (c) => void controllers.push(c) });
    }
    // Let every stream run several events (about 150 bytes each): a mock that grows as it goes shows it here.
    await eventually(() => counts.bytes > 2_000 * 5 * 150, 20_000, 50);
    const perStream = ((await heapUsed()) - before) / 2_000;
    expect(counts.ended).toBe(0);
    for (const c of controllers) c.abort(new Error("done"));
    expect(counts.ended).toBe(2_000);
    // The request (a 4 KB prompt) is not kept either.
    expect(perStream).toBeLessThan(4 * 1024);
  });
});

describe("long mock streams through the gateway", () => {
  let gw: TestGateway;
  const clients: StreamClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await gw.close();
  });

  it(`hold under 40 KB of heap per open stream (${STREAMS} streams of ${TOKENS} tokens)`, async () => {
    gw = await startTestGateway({
      logging: { level: "warn", accessLog: false },
      models: [{ name: "long", targets: [{ name: "mock", baseUrl: "mock://long", mock: { tokens: TOKENS, interTokenMs: 200 } }] }],
    });
    // One stream first, so code paths are compiled and pools allocated before the baseline.
    const warm = openStream(gw.url);
    await eventually(() => warm.bytes > 0);
    warm.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const before = await heapUsed();
    for (let i = 0; i < STREAMS; i++) clients.push(openStream(gw.url));
    await eventually(() => clients.every((c) => c.bytes > 0), 20_000, 50);
    // Let every stream run a few events: a mock that grows as it goes shows it here.
    const flowing = clients.reduce((sum, c) => sum + c.bytes, 0);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(clients.reduce((sum, c) => sum + c.bytes, 0)).toBeGreaterThan(flowing);
    const perStream = ((await heapUsed()) - before) / STREAMS;
    expect(clients.every((c) => !c.socket.destroyed)).toBe(true);
    // About 17 KB is measured, the in-process client's sockets included (the mock's share is the test above); the old mock took ~800 KB.
    expect(perStream).toBeLessThan(40 * 1024);
  }, 60_000);
});
