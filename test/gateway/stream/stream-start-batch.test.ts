/**
 * What a stream's start brings (the first upstream read, often a short answer's every event and
 * its end, and whatever came before the stream was handed over) reaches the client as one write
 * (upstream/stream-delivery.ts): with its end when the stream ended there, and past 8 KiB at once
 * so the client's backpressure applies. The bytes stay the same. Seen on the wire: the upstream is
 * a raw TCP server that sends its whole answer in one write, and the client reads the gateway's
 * chunked framing from a raw socket.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

/** An OpenAI chat stream of `words` content events (with usage, as the client asked), each `pad` characters long. */
function chatEvents(words: number, pad = 0): string[] {
  const event = (body: object) => `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", ...body })}\n\n`;
  const out = [event({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }], usage: null })];
  for (let i = 0; i < words; i++) out.push(event({ choices: [{ index: 0, delta: { content: ` word${i}${"x".repeat(pad)}` }, finish_reason: null }], usage: null }));
  out.push(event({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null }));
  out.push(event({ choices: [], usage: { prompt_tokens: 5, completion_tokens: words, total_tokens: 5 + words } }));
  out.push("data: [DONE]\n\n");
  return out;
}

/** The HTTP answer carrying `events`, one chunk each, as one buffer (written with one socket write). */
function chunkedAnswer(events: string[]): Buffer {
  const head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
  const body = events.map((e) => `${Buffer.byteLength(e).toString(16)}\r\n${e}\r\n`).join("");
  return Buffer.from(`${head}${body}0\r\n\r\n`);
}

/** The chunks of a chunked HTTP body (the bytes after the head), in order. */
function dechunk(body: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", at);
    if (lineEnd === -1) throw new Error("truncated chunked body");
    const size = parseInt(body.toString("latin1", at, lineEnd), 16);
    if (size === 0) return chunks;
    chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

describe("a stream's start goes to the client as one write", () => {
  let upstream: Server;
  let gw: TestGateway;
  /** What the raw upstream answers next. */
  let answer: Buffer = Buffer.alloc(0);
  const upstreamSockets = new Set<Socket>();

  beforeAll(async () => {
    upstream = createServer((socket) => {
      upstreamSockets.add(socket);
      socket.on("close", () => upstreamSockets.delete(socket));
      let seen = Buffer.alloc(0);
      socket.on("data", (data) => {
        seen = Buffer.concat([seen, data]);
        const headEnd = seen.indexOf("\r\n\r\n");
        if (headEnd === -1) return;
        const length = Number(/content-length: *(\d+)/i.exec(seen.toString("latin1", 0, headEnd))?.[1] ?? 0);
        if (seen.length < headEnd + 4 + length) return;
        socket.end(answer);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    gw = await startTestGateway({
      upstreamDefaults: { maxAttempts: 1 },
      passiveHealth: { failures: 1_000 },
      models: [{ name: "m", targets: [{ name: "raw", baseUrl }] }],
    });
  });
  afterAll(async () => {
    await gw.close();
    for (const socket of upstreamSockets) socket.destroy();
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** A streaming chat request on a raw socket (with usage asked for, so the gateway passes every event on); the answer's head and chunks. */
  async function rawStream(): Promise<{ head: string; chunks: Buffer[] }> {
    const { hostname, port } = new URL(gw.url);
    const body = JSON.stringify({ model: "m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    const socket = connect({ host: hostname, port: Number(port) });
    const received: Buffer[] = [];
    socket.on("data", (data) => received.push(data));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    await new Promise<void>((resolve, reject) => socket.on("end", resolve).on("error", reject));
    socket.destroy();
    const all = Buffer.concat(received);
    const headEnd = all.indexOf("\r\n\r\n");
    return { head: all.toString("latin1", 0, headEnd), chunks: dechunk(all.subarray(headEnd + 4)) };
  }

  it("relays a short stream that arrived in one read as one HTTP chunk, byte for byte", async () => {
    const events = chatEvents(20);
    answer = chunkedAnswer(events);
    const { head, chunks } = await rawStream();
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/transfer-encoding: chunked/i);
    expect(Buffer.concat(chunks).toString()).toBe(events.join(""));
    // The whole answer, ended with it (one res.end, not a write and then an empty end).
    expect(chunks.length).toBe(1);
  });

  it("relays a start burst past the 8 KiB batch byte for byte", async () => {
    // About 40 KiB in one upstream write: 40 content events of about 1 KiB.
    const events = chatEvents(40, 900);
    answer = chunkedAnswer(events);
    const { chunks } = await rawStream();
    expect(Buffer.concat(chunks).toString()).toBe(events.join(""));
    expect(chunks.length).toBeGreaterThanOrEqual(1);
  });
});
