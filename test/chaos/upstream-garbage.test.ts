/**
 * A target answers garbage: non-JSON, truncated JSON, a wrong content type, JSON that is not
 * an object, an endless body, bytes that are not HTTP, a body shorter than its Content-Length.
 * The gateway answers a clear OpenAI-style error (or fails over to a sane target) and stays
 * healthy.
 */
import { createServer, type Server, type Socket } from "node:net";
import { MockUpstream, type Behavior } from "../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { chatBody, openAiError, postJson, streamChat } from "./support/http";

const VALID_COMPLETION = JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] });

/** HTTP-level garbage the mock upstream sends, keyed by the model name the gateway forwards. */
const HTTP_GARBAGE: Record<string, Behavior> = {
  "not-json": { kind: "garbage", contentType: "application/json", body: "upstream hiccup <<>> ;;" },
  truncated: { kind: "garbage", contentType: "application/json", body: VALID_COMPLETION.slice(0, 60) },
  "wrong-type": { kind: "garbage", contentType: "text/html; charset=utf-8", body: VALID_COMPLETION },
  "html-page": { kind: "garbage", contentType: "text/html", body: "<html><body><h1>502 Bad Gateway</h1></body></html>" },
  "json-array": { kind: "garbage", contentType: "application/json", body: "[1,2,3]" },
  "json-null": { kind: "garbage", contentType: "application/json", body: "null" },
  "json-string": { kind: "garbage", contentType: "application/json", body: '"choices"' },
  empty: { kind: "garbage", contentType: "application/json", body: "" },
  "empty-stream": { kind: "garbage", contentType: "text/event-stream", body: "" },
  endless: { kind: "endless" },
};

/** Raw TCP answers that are not (valid) HTTP. */
const TCP_GARBAGE: Record<string, string> = {
  "not-http": "SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001\u0002 garbage",
  "bad-status-line": "HTTP/1.1 2OO OK\r\n\r\n",
  "short-body": 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":',
  "bad-chunking": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n",
};

async function rawTcpUpstream(answers: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let request = "";
    socket.on("data", (chunk) => {
      request += chunk.toString("latin1");
      const model = /"model":"([^"]+)"/.exec(request)?.[1];
      if (model && request.endsWith("}")) socket.end(answers[model] ?? "nonsense");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("a target answers garbage", () => {
  let garbage: MockUpstream;
  let good: MockUpstream;
  let tcp: Awaited<ReturnType<typeof rawTcpUpstream>>;
  let gw: TestGateway;
  const names = [...Object.keys(HTTP_GARBAGE), ...Object.keys(TCP_GARBAGE)];

  beforeAll(async () => {
    garbage = await MockUpstream.start("garbage", (request) => HTTP_GARBAGE[String(request.json?.model)] ?? { kind: "status", status: 500 });
    good = await MockUpstream.start("good", { kind: "ok", tokens: 5 });
    tcp = await rawTcpUpstream(TCP_GARBAGE);
    const baseFor = (name: string) => (name in TCP_GARBAGE ? tcp.url : garbage.baseUrl);
    gw = await startTestGateway({
      upstreamDefaults: { maxResponseBytes: 256 * 1024, timeoutMs: 2_000 },
      // One failure per target must not eject it here: every case hits the same garbage target.
      passiveHealth: { failures: 1_000 },
      models: [
        ...names.map((name) => ({ name, targets: [{ name: "garbage", baseUrl: baseFor(name) }] })),
        ...names.map((name) => ({ name: `${name}+good`, strategy: "round-robin" as const, targets: [{ name: "garbage", baseUrl: baseFor(name), model: name }, { name: "good", baseUrl: good.baseUrl }] })),
        { name: "good", targets: [{ name: "good", baseUrl: good.baseUrl }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([garbage.stop(), good.stop(), tcp.close()]);
  });

  const expectedCode = (name: string) => (name in TCP_GARBAGE ? "upstream_error" : "upstream_invalid_response");

  it.each(names)("answers a clear 502 when the only target sends %s (non-streaming)", async (name) => {
    const answer = await postJson(gw.url, "/v1/chat/completions", chatBody(name), { timeoutMs: 10_000 });
    expect(answer.status).toBe(502);
    const error = openAiError(answer.status, answer.headers, answer.text);
    expect(error).toMatchObject({ type: "server_error", code: expectedCode(name) });
    // The garbage itself never reaches the client.
    expect(answer.text).not.toContain("hiccup");
    expect(answer.text).not.toContain("<html>");
  });

  it.each(names.filter((n) => n !== "empty-stream"))("answers a clear 502 when the only target sends %s to a stream", async (name) => {
    const answer = await streamChat(gw.url, chatBody(name), { timeoutMs: 10_000 });
    expect(answer.status).toBe(502);
    expect(openAiError(answer.status, answer.headers, answer.text).code).toBe(expectedCode(name));
  });

  it("answers a clear 502 to a stream whose target sends an empty event stream", async () => {
    const answer = await streamChat(gw.url, chatBody("empty-stream"));
    expect(answer.status).toBe(502);
    expect(openAiError(answer.status, answer.headers, answer.text).code).toBe("upstream_invalid_response");
  });

  it.each(names)("fails over to a sane target when one sends %s", async (name) => {
    const answers = await Promise.all([
      postJson(gw.url, "/v1/chat/completions", chatBody(`${name}+good`), { timeoutMs: 10_000 }),
      postJson(gw.url, "/v1/chat/completions", chatBody(`${name}+good`), { timeoutMs: 10_000 }),
      streamChat(gw.url, chatBody(`${name}+good`), { timeoutMs: 10_000 }),
      streamChat(gw.url, chatBody(`${name}+good`), { timeoutMs: 10_000 }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers["x-gateway-target"]).toBe("good");
    }
    // The bad target was really tried first (round-robin over four requests), not skipped.
    expect(answers.some((answer) => Number(answer.headers["x-gateway-attempts"]) >= 2)).toBe(true);
  });

  it("stays healthy: serves, reports ready, counts the retries, and logged no unhandled error", async () => {
    const served = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? postJson(gw.url, "/v1/chat/completions", chatBody("good")) : streamChat(gw.url, chatBody("good")))));
    expect(served.every((a) => a.status === 200)).toBe(true);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/aigw_upstream_retries_total\{[^}]*reason="invalid_response"\} [1-9]/);
    expect(gw.logs().filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
  });
});
