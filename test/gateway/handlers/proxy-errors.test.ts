/** OpenAI-shaped client errors from the proxy pipeline, and no upstream key anywhere, ever. */
import { chat, json, rawRequest, readStream } from "../../helpers/http-client";
import { MockUpstream, type Behavior } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const UPSTREAM_KEY = "sk-upstream-SECRET-0123456789abcdef";
const LIMIT = 2_048;

describe("proxy errors", () => {
  let ok: MockUpstream;
  let hang: MockUpstream;
  let failing: MockUpstream;
  let gw: TestGateway;
  const responses: string[] = [];
  beforeAll(async () => {
    ok = await MockUpstream.start("ok");
    hang = await MockUpstream.start("hang", { kind: "hang" });
    // The 400 echoes the key it was sent, as some upstreams (and proxies in front of them) do (a 401/403 is never passed on: upstream-auth.test.ts).
    const echo = JSON.stringify({ error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}.`, type: "invalid_request_error", code: "invalid_api_key" } });
    const cycle: Behavior[] = [{ kind: "status", status: 500 }, { kind: "reset" }, { kind: "status", status: 400, body: echo }, { kind: "cut-stream", afterEvents: 2 }];
    failing = await MockUpstream.start("failing", (_r, i) => cycle[i % cycle.length]);
    const key = { apiKey: UPSTREAM_KEY };
    gw = await startTestGateway({
      server: { bodyLimitBytes: LIMIT },
      upstreamDefaults: { timeoutMs: 300, deadlineMs: 800 },
      passiveHealth: { failures: 100 },
      models: [
        { name: "m", targets: [{ name: "ok", baseUrl: ok.baseUrl, ...key }] },
        { name: "slow", targets: [{ name: "hang", baseUrl: hang.baseUrl, ...key }] },
        { name: "flaky", targets: [{ name: "failing", baseUrl: failing.baseUrl, ...key }] },
        { name: "dead", targets: [{ name: "dead", baseUrl: "http://127.0.0.1:1/v1", ...key }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([ok.stop(), hang.stop(), failing.stop()]);
  });

  /** Records everything the client saw, headers included, for the key check at the end. */
  async function send(path: string, init: { body?: string; headers?: Record<string, string>; chunks?: Buffer[] }) {
    const res = await rawRequest(gw.url, { method: "POST", path, headers: { "content-type": "application/json", ...init.headers }, body: init.body, chunks: init.chunks });
    responses.push(JSON.stringify(res.headers), res.body);
    return { status: res.status, body: res.body.startsWith("{") ? JSON.parse(res.body) : res.body, headers: res.headers };
  }

  const error = (code: string, param: string | null = null) => ({ error: { message: expect.any(String), type: "invalid_request_error", param, code } });

  it("400 on malformed JSON", async () => {
    const res = await send("/v1/chat/completions", { body: '{"model": "m", "messages": [' });
    expect([res.status, res.body]).toEqual([400, error("invalid_json")]);
    expect(res.headers["x-request-id"]).toBeTruthy();
  });

  it.each(["[]", "null", '"text"', "42"])("400 when the body is JSON but not an object (%s)", async (body) => {
    const res = await send("/v1/chat/completions", { body });
    expect([res.status, res.body]).toEqual([400, error("invalid_request")]);
  });

  it("404 when the model is missing, empty or not a string", async () => {
    for (const body of [{ messages: [] }, { model: "", messages: [] }, { model: 42, messages: [] }]) {
      const res = await send("/v1/chat/completions", { body: JSON.stringify(body) });
      expect([res.status, res.body]).toEqual([404, error("model_not_found", "model")]);
    }
  });

  it("404 on an unknown model, naming it", async () => {
    const res = await send("/v1/embeddings", { body: JSON.stringify({ model: "gpt-17", input: "x" }) });
    expect([res.status, res.body]).toEqual([404, error("model_not_found", "model")]);
    expect(res.body.error.message).toContain("gpt-17");
  });

  it("413 when the declared content-length is over the limit", async () => {
    const res = await send("/v1/chat/completions", { body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(LIMIT) }] }) });
    expect([res.status, res.body]).toEqual([413, error("request_too_large")]);
  });

  it("413 when a chunked body grows past the limit", async () => {
    const chunks = [Buffer.from('{"model":"m","messages":[{"role":"user","content":"'), ...Array.from({ length: 8 }, () => Buffer.alloc(512, 0x78)), Buffer.from('"}]}')];
    const res = await send("/v1/chat/completions", { chunks });
    expect([res.status, res.body]).toEqual([413, error("request_too_large")]);
    // A chunked body under the limit is fine.
    const small = await send("/v1/chat/completions", { chunks: [Buffer.from('{"model":"m",'), Buffer.from('"messages":[]}')] });
    expect(small.status).toBe(200);
  });

  it("415 on multipart bodies", async () => {
    const res = await send("/v1/chat/completions", { body: "--x\r\n\r\n--x--", headers: { "content-type": "multipart/form-data; boundary=x" } });
    expect([res.status, res.body]).toEqual([415, error("unsupported_media_type")]);
  });

  it("502 / 503 / 504 from upstream failures are OpenAI server errors", async () => {
    const timeout = await send("/v1/chat/completions", { body: JSON.stringify({ model: "slow", messages: [] }) });
    expect([timeout.status, timeout.body.error.type, timeout.body.error.code]).toEqual([504, "server_error", "upstream_timeout"]);
    const unreachable = await send("/v1/chat/completions", { body: JSON.stringify({ model: "dead", messages: [] }) });
    expect([unreachable.status, unreachable.body.error.code]).toEqual([502, "upstream_error"]);
  });

  it("never shows an upstream key in any response or log line", async () => {
    // Every flavour of answer: success, stream, 5xx, reset, pass-through 400, cut stream.
    await (await chat(gw.url, { model: "m" })).text();
    await readStream(await chat(gw.url, { model: "m", stream: true }));
    for (let i = 0; i < 4; i++) {
      const res = await chat(gw.url, { model: "flaky", stream: i === 3 }, { authorization: `Bearer ${UPSTREAM_KEY}-client` });
      const text = await readStream(res);
      responses.push(JSON.stringify([...res.headers]), text);
    }
    for (const model of ["m", "flaky", "slow", "dead"]) responses.push(await (await fetch(`${gw.url}/v1/models/${model}`)).text());
    responses.push(await (await fetch(`${gw.url}/v1/models`)).text(), await (await fetch(`${gw.url}/metrics`)).text(), await (await fetch(`${gw.url}/readyz`)).text());
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) expect(text).not.toContain(UPSTREAM_KEY.slice(3));
    expect(gw.rawLogs().length).toBeGreaterThan(0);
    expect(gw.rawLogs()).not.toContain(UPSTREAM_KEY.slice(3));
    // Sanity: the key really was used upstream.
    expect(ok.completions[0].headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });

  it("redacts the key from a passed-through error body that echoes it, leaving the rest unchanged", async () => {
    let seen = "";
    for (let i = 0; i < 4 && !seen.includes("Incorrect"); i++) {
      const res = await chat(gw.url, { model: "flaky" });
      const text = await res.text();
      responses.push(text);
      if (res.status === 400) seen = text;
    }
    expect(JSON.parse(seen)).toEqual({ error: { message: "Incorrect API key provided: [redacted].", type: "invalid_request_error", code: "invalid_api_key" } });
  });

  it("answers 400 to a body that is not UTF-8 JSON, and 431 to oversized headers", async () => {
    const res = await rawRequest(gw.url, { method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json" }, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([400, "invalid_json"]);
    const big = await rawRequest(gw.url, { path: "/healthz", headers: { "x-big": "x".repeat(20_000) } });
    expect([big.status, JSON.parse(big.body).error.type]).toEqual([431, "invalid_request_error"]);
  });

  it("keeps serving after all of the above", async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await json(await chat(gw.url, { model: "m" }))).object).toBe("chat.completion");
  });
});
