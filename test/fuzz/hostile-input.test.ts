/**
 * Hostile clients against a real gateway on 127.0.0.1: slowloris headers and bodies are cut by
 * the server timeouts, oversized and deeply nested bodies, huge headers, header injection and
 * odd paths are refused with clean OpenAI-style errors, and none of it reaches the upstream.
 */
import { createServer } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { chatBody, openAiError, postJson, rawRequest, streamChat } from "../chaos/support/http";

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 1_500;
const BODY_LIMIT = 256 * 1024;

describe("hostile input", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  let port: number;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    gw = await startTestGateway({
      server: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, bodyLimitBytes: BODY_LIMIT },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl, apiKey: "sk-upstream-hostile-0000" }] }],
    });
    port = gw.gateway.port;
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  const post = (path: string, body: string, extra = "") =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`;

  describe("slow clients", () => {
    it("cuts a slowloris client that never finishes its headers with a 408 soon after headersTimeout", async () => {
      const answer = await rawRequest(port, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n", { trickle: "X-Slow: 1\r\n", everyMs: 200, timeoutMs: 10_000, waitForClose: true });
      expect(answer.status).toBe(408);
      expect(openAiError(answer.status, answer.headers, answer.body).code).toBe("request_timeout");
      expect(answer.closed).toBe(true);
      // Node's own check runs every 30 s unless the gateway asks for more: generous, but far below that.
      expect(answer.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 3_000);
    });

    it("cuts a client that trickles its body with a 408 soon after requestTimeout", async () => {
      const head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
      const answer = await rawRequest(port, head, { trickle: " ", everyMs: 100, timeoutMs: 10_000, waitForClose: true });
      expect(answer.status).toBe(408);
      expect(answer.closed).toBe(true);
      expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    });

    it("keeps serving other clients while slow ones hold sockets", async () => {
      const slow = Array.from({ length: 20 }, () => rawRequest(port, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", { trickle: "X-Slow: 1\r\n", everyMs: 300, timeoutMs: 10_000, waitForClose: true }));
      const res = await postJson(gw.url, "/v1/chat/completions", chatBody("m"));
      expect(res.status).toBe(200);
      const answers = await Promise.all(slow);
      expect(answers.every((a) => a.status === 408 && a.closed)).toBe(true);
    });
  });

  it("cuts a client that stops reading a stream and releases the upstream within the attempt timeout", async () => {
    // An upstream that streams as fast as it is read, and counts the streams it loses.
    let released = 0;
    const flood = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const event = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x".repeat(2_000) } }] })}\n\n`;
        const pump = () => {
          while (!res.destroyed && res.write(event));
          if (!res.destroyed) res.once("drain", pump);
        };
        pump();
        res.on("close", () => released++);
      });
    });
    await new Promise<void>((resolve) => flood.listen(0, "127.0.0.1", resolve));
    const stallGw = await startTestGateway({ upstreamDefaults: { timeoutMs: 1_000 }, models: [{ name: "flood", targets: [{ name: "flood", baseUrl: `http://127.0.0.1:${(flood.address() as AddressInfo).port}/v1` }] }] });
    try {
      const started = performance.now();
      const socket = connect(stallGw.gateway.port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.on("connect", () => {
        socket.pause(); // reads nothing, ever
        const body = JSON.stringify(chatBody("flood", { stream: true }));
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
      await eventually(() => released === 1, 10_000);
      const connections = () => new Promise<number>((resolve) => stallGw.gateway.server.getConnections((_err, n) => resolve(n)));
      await eventually(async () => (await connections()) === 0, 5_000);
      expect(performance.now() - started).toBeLessThan(1_000 + 3_000);
      socket.destroy();
    } finally {
      await stallGw.close();
      flood.closeAllConnections();
      await new Promise((resolve) => flood.close(resolve));
    }
  });

  describe("huge bodies and headers", () => {
    it("refuses a declared oversized body with 413 before reading it, then closes by the request timeout", async () => {
      const head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{";
      const answer = await rawRequest(port, head, { trickle: Buffer.alloc(16 * 1024, 0x20), everyMs: 20, timeoutMs: 10_000 });
      expect(answer.status).toBe(413);
      expect(openAiError(answer.status, answer.headers, answer.body).code).toBe("request_too_large");
      const drained = await rawRequest(port, head, { trickle: Buffer.alloc(16 * 1024, 0x20), everyMs: 20, timeoutMs: 10_000, waitForClose: true });
      expect(drained.closed).toBe(true);
      expect(drained.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    });

    it("refuses an endless chunked body with 413 once it passes the limit", async () => {
      const chunk = `4000\r\n${" ".repeat(0x4000)}\r\n`;
      const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`;
      const answer = await rawRequest(port, head, { trickle: chunk.repeat(8), everyMs: 10, timeoutMs: 10_000, waitForClose: true });
      expect(answer.status).toBe(413);
      expect(answer.closed).toBe(true);
      expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    });

    it("answers 413 to a body one byte over the limit and 200 to one at the limit", async () => {
      const base = JSON.stringify(chatBody("m"));
      const pad = (size: number) => `${base.slice(0, -1)},"pad":"${"x".repeat(size - base.length - 9)}"}`;
      expect(Buffer.byteLength(pad(BODY_LIMIT))).toBe(BODY_LIMIT);
      expect((await postJson(gw.url, "/v1/chat/completions", pad(BODY_LIMIT))).status).toBe(200);
      const over = await postJson(gw.url, "/v1/chat/completions", pad(BODY_LIMIT + 1));
      expect(over.status).toBe(413);
      openAiError(over.status, over.headers, over.text);
    });

    it("refuses very long headers and too many headers with 431", async () => {
      const long = await rawRequest(port, post("/v1/chat/completions", "{}", `X-Long: ${"a".repeat(100_000)}\r\n`));
      expect(long.status).toBe(431);
      openAiError(long.status, long.headers, long.body);
      const many = await rawRequest(port, post("/v1/chat/completions", "{}", Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v\r\n`).join("")));
      expect(many.status).toBe(431);
    });

    it("refuses deeply nested JSON with a 400, streaming or not, and still accepts ordinary nesting", async () => {
      const depth = 100_000;
      for (const stream of [false, true]) {
        const body = `{"model":"m","stream":${stream},"messages":[{"role":"user","content":"x"}],"tools":${"[".repeat(depth)}${"]".repeat(depth)}}`;
        const res = await postJson(gw.url, "/v1/chat/completions", body);
        expect(res.status).toBe(400);
        expect(openAiError(res.status, res.headers, res.text).code).toBe("invalid_request");
      }
      const nested = (n: number) => `{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`;
      expect((await postJson(gw.url, "/v1/chat/completions", nested(100))).status).toBe(200);
      expect((await postJson(gw.url, "/v1/chat/completions", nested(500))).status).toBe(400);
    });
  });

  describe("header injection and request smuggling", () => {
    it.each([
      ["a bare CR in a value", "X-Request-Id: abc\rSet-Cookie: evil=1\r\n"],
      ["a NUL in a value", "X-Note: a\u0000b\r\n"],
      ["an obsolete folded line", "X-Note: a\r\n folded: yes\r\n"],
      ["a space before the colon", "X-Note : a\r\n"],
      ["Content-Length and Transfer-Encoding together", "Transfer-Encoding: chunked\r\n"],
      ["two different Content-Lengths", "Content-Length: 3\r\n"],
    ])("refuses %s with 400", async (_name, extra) => {
      const answer = await rawRequest(port, post("/v1/chat/completions", '{"model":"m"}', extra));
      expect(answer.status).toBe(400);
      openAiError(answer.status, answer.headers, answer.body);
      expect(answer.raw.toLowerCase()).not.toContain("set-cookie");
    });

    it("never echoes an unsafe X-Request-Id and never reflects body values into headers", async () => {
      const bad = await postJson(gw.url, "/v1/chat/completions", chatBody("m"), { headers: { "x-request-id": "abc def<script>" } });
      expect(bad.status).toBe(200);
      expect(bad.headers["x-request-id"]).not.toContain("script");
      expect(bad.headers["x-request-id"]).toMatch(/^[A-Za-z0-9._:-]+$/);
      const good = await postJson(gw.url, "/v1/chat/completions", chatBody("m"), { headers: { "x-request-id": "trace-123" } });
      expect(good.headers["x-request-id"]).toBe("trace-123");
      const injected = await postJson(gw.url, "/v1/chat/completions", chatBody("m\r\nX-Injected: 1\r\n\r\n<html>"));
      expect(injected.status).toBe(404);
      expect(Object.keys(injected.headers)).not.toContain("x-injected");
      expect(openAiError(injected.status, injected.headers, injected.text).param).toBe("model");
    });

    it("sends the upstream only its own headers: no client credentials or arbitrary client headers", async () => {
      const before = upstream.completions.length;
      const res = await postJson(gw.url, "/v1/chat/completions", chatBody("m"), { headers: { authorization: "Bearer sk-client-should-stay-here", "x-forwarded-host": "evil", cookie: "session=1", "x-custom": "1" } });
      expect(res.status).toBe(200);
      const seen = upstream.completions[before].headers;
      expect(seen.authorization).toBe("Bearer sk-upstream-hostile-0000");
      expect(seen["x-forwarded-host"]).toBeUndefined();
      expect(seen.cookie).toBeUndefined();
      expect(seen["x-custom"]).toBeUndefined();
    });

    it("is not polluted by __proto__ or constructor keys in a body it rewrites", async () => {
      const body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}`;
      const res = await postJson(gw.url, "/v1/chat/completions", body);
      expect(res.status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    });
  });

  describe("odd paths and methods", () => {
    const paths = [
      "/v1/../admin",
      "/v1/../admin/keys",
      "/v1/chat/completions/../../admin/keys",
      "/v1/%2e%2e/admin",
      "/v1/chat%2Fcompletions",
      "/v1/chat%2fcompletions",
      "/v1%2Fchat%2Fcompletions",
      "//v1/chat/completions",
      "/v1//chat/completions",
      "/v1/chat/completions/",
      "/v1/chat/completions%00",
      "/v1/chat/completions;.json",
      "/V1/CHAT/COMPLETIONS",
      "/v1/models/..%2F..%2Fadmin",
      "/v1/models/%2e%2e%2fadmin",
      "/admin",
      "/admin/keys",
      "/%61dmin/keys",
      "http://evil.example/v1/chat/completions",
      "*",
      "/\u00e9",
    ];
    it.each(paths)("refuses %s with a clean 404 and reaches no upstream", async (path) => {
      const before = upstream.completions.length;
      const answer = await rawRequest(port, post(encodeURI(path) === path ? path : path, JSON.stringify(chatBody("m"))));
      expect([400, 404]).toContain(answer.status);
      openAiError(answer.status, answer.headers, answer.body);
      expect(upstream.completions.length).toBe(before);
    });

    it.each(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])("answers %s on a proxy route with 405 and an OpenAI error", async (method) => {
      const answer = await rawRequest(port, `${method} /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer.status).toBe(405);
      expect(openAiError(answer.status, answer.headers, answer.body).code).toBe("method_not_allowed");
    });

    it.each([
      ["CONNECT tunnelling", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"],
      ["an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
      ["a TLS ClientHello", Buffer.from("160301002a010000260303" + "00".repeat(32) + "000002002f0100", "hex")],
      ["binary junk", Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10])],
    ])("closes on %s without hanging, answering a clean 400 if anything", async (_name, payload) => {
      const answer = await rawRequest(port, payload, { timeoutMs: 5_000, waitForClose: true });
      expect(answer.closed).toBe(true);
      if (answer.status !== 0) {
        expect(answer.status).toBe(400);
        openAiError(answer.status, answer.headers, answer.body);
      } else expect(answer.raw).toBe("");
    });
  });

  it("is still healthy afterwards: it streams, and logged no unhandled error", async () => {
    const stream = await streamChat(gw.url, chatBody("m"));
    expect(stream.status).toBe(200);
    expect(stream.done).toBe(true);
    expect(gw.logs().filter((line) => line.msg === "unhandled request error" || line.msg === "request failed")).toEqual([]);
  });
});
