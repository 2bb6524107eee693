/** X-Request-Id and the access log: one JSON line per request, the fields operators need, no prompts, no keys. */
import { chat, postJson, rawRequest, readStream } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const PROMPT = "my-very-private-prompt-text";
const CLIENT_KEY = "sk-client-key-should-not-appear";
const UPSTREAM_KEY = "sk-upstream-key-should-not-appear";

describe("request ids and access log", () => {
  let up: MockUpstream;
  let down: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    up = await MockUpstream.start("up", { kind: "ok", tokens: 5, interTokenMs: 0 });
    down = await MockUpstream.start("down", { kind: "status", status: 503 });
    gw = await startTestGateway({
      server: { bodyLimitBytes: 4_096 },
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: up.baseUrl, apiKey: UPSTREAM_KEY }] },
        { name: "broken", targets: [{ name: "down", baseUrl: down.baseUrl, apiKey: UPSTREAM_KEY }] },
        { name: "slow", targets: [{ name: "slow", baseUrl: "mock://slow", mock: { tokens: 50, interTokenMs: 20 } }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([up.stop(), down.stop()]);
  });

  const accessLines = (reqId: string) => gw.logs().filter((l) => l.msg === "request" && l.reqId === reqId);
  const messages = [{ role: "user", content: PROMPT }];
  const auth = { authorization: `Bearer ${CLIENT_KEY}` };

  it("propagates a sane X-Request-Id and generates one otherwise", async () => {
    const kept = await chat(gw.url, { model: "m" }, { "x-request-id": "client-req-42" });
    expect(kept.headers.get("x-request-id")).toBe("client-req-42");
    const generated = await chat(gw.url, { model: "m" });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const other = await chat(gw.url, { model: "m" });
    expect(other.headers.get("x-request-id")).not.toBe(generated.headers.get("x-request-id"));
    for (const unsafe of ["has spaces", "x".repeat(129), "inject\"quote"]) {
      const res = await rawRequest(gw.url, { method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json", "x-request-id": unsafe }, body: JSON.stringify({ model: "m", messages }) });
      expect(res.headers["x-request-id"]).not.toBe(unsafe);
      expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("carries the request id on error responses too", async () => {
    const res = await chat(gw.url, { model: "nope" }, { "x-request-id": "err-id-1" });
    expect([res.status, res.headers.get("x-request-id")]).toEqual([404, "err-id-1"]);
  });

  it("writes one access-log line with model, target, status, attempts, latency and tokens", async () => {
    await (await chat(gw.url, { model: "m", messages }, { "x-request-id": "log-plain", ...auth })).text();
    const lines = accessLines("log-plain");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: "info",
      time: expect.any(String),
      msg: "request",
      reqId: "log-plain",
      route: "chat.completions",
      model: "m",
      upstreamModel: "m",
      stream: false,
      clientIp: "127.0.0.1",
      target: "up",
      status: 200,
      attempts: 1,
      latencyMs: expect.any(Number),
      promptTokens: expect.any(Number),
      completionTokens: 5,
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it("adds ttftMs and stream usage for streams", async () => {
    await readStream(await chat(gw.url, { model: "m", messages, stream: true }, { "x-request-id": "log-stream", ...auth }));
    const [line] = accessLines("log-stream");
    expect(line).toMatchObject({ status: 200, target: "up", attempts: 1, ttftMs: expect.any(Number), completionTokens: 5 });
    expect(line.ttftMs as number).toBeLessThanOrEqual(line.latencyMs as number);
  });

  it("logs exactly one line for every kind of outcome", async () => {
    const outcomes: [string, () => Promise<unknown>, number][] = [
      ["o-embed", () => postJson(gw.url, "/v1/embeddings", { model: "m", input: PROMPT }, { "x-request-id": "o-embed" }).then((r) => r.text()), 200],
      ["o-unknown", () => chat(gw.url, { model: "ghost", messages }, { "x-request-id": "o-unknown" }).then((r) => r.text()), 404],
      ["o-badjson", () => rawRequest(gw.url, { method: "POST", path: "/v1/chat/completions", headers: { "x-request-id": "o-badjson" }, body: `{"content":"${PROMPT}"` }), 400],
      ["o-toolarge", () => chat(gw.url, { model: "m", messages: [{ role: "user", content: PROMPT.repeat(400) }] }, { "x-request-id": "o-toolarge" }).then((r) => r.text()), 413],
      ["o-upstream", () => chat(gw.url, { model: "broken", messages }, { "x-request-id": "o-upstream" }).then((r) => r.text()), 502],
      ["o-method", () => fetch(`${gw.url}/v1/completions`, { headers: { "x-request-id": "o-method" } }).then((r) => r.text()), 405],
    ];
    for (const [, send] of outcomes) await send();
    for (const [id, , status] of outcomes) {
      const lines = accessLines(id);
      expect(lines).toHaveLength(1);
      expect(lines[0].status).toBe(status);
    }
    expect(accessLines("o-upstream")[0]).toMatchObject({ model: "broken", attempts: 1, errorCode: "upstream_error" });
    expect(accessLines("o-unknown")[0]).toMatchObject({ errorCode: "model_not_found" });
    expect(accessLines("o-toolarge")[0]).toMatchObject({ errorCode: "request_too_large" });
    expect(accessLines("o-unknown")[0].model).toBeUndefined();
  });

  it("logs a client that went away mid-stream once, as 499", async () => {
    const res = await chat(gw.url, { model: "slow", stream: true }, { "x-request-id": "o-gone" });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await eventually(() => accessLines("o-gone").length === 1);
    expect(accessLines("o-gone")[0]).toMatchObject({ status: 499, model: "slow", target: "slow" });
  });

  it("never logs prompt text, client keys or upstream keys (no key checks here: see the next block)", () => {
    const raw = gw.rawLogs();
    expect(raw).toContain("log-plain");
    expect(raw).not.toContain(PROMPT);
    expect(raw).not.toContain(CLIENT_KEY);
    expect(raw).not.toContain(UPSTREAM_KEY);
    for (const line of raw.split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  });
});

/**
 * The same leak check on a gateway where the keys are in play: client keys are checked (right,
 * wrong, over budget, over the request limit), spend is settled, upstream keys are injected
 * into requests that fail (5xx failover, an error body that quotes the key) and into streams.
 */
describe("access and general logs with keys in play", () => {
  let good: MockUpstream;
  let quoting: MockUpstream;
  let gw: TestGateway;
  const WRONG_KEY = "sk-wrong-key-should-not-appear";
  beforeAll(async () => {
    good = await MockUpstream.start("good", { kind: "ok", tokens: 8 });
    quoting = await MockUpstream.start("quoting", { kind: "status", status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}`, type: "invalid_request_error", code: "invalid_api_key" } }) });
    gw = await startTestGateway({
      models: [
        { name: "m", targets: [{ name: "down", baseUrl: "http://127.0.0.1:1/v1", apiKey: UPSTREAM_KEY }, { name: "good", baseUrl: good.baseUrl, apiKey: UPSTREAM_KEY }] },
        { name: "rejected", targets: [{ name: "quoting", baseUrl: quoting.baseUrl, apiKey: UPSTREAM_KEY }] },
      ],
      // $0.40 a request, reserved at admission (8 tokens); the rejecting upstream is priced at $0.
      limits: { defaultMaxTokens: 8 },
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 50_000 }, rejected: { inputPerMTok: 0, outputPerMTok: 0 } },
      keys: [{ name: "client", key: CLIENT_KEY, limits: { requestsPerMinute: 5, monthlyBudgetUsd: 1.5 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([good.stop(), quoting.stop()]);
  });

  it("authenticates, settles and fails without a key in any log line or answer", async () => {
    const auth = { authorization: `Bearer ${CLIENT_KEY}` };
    const answers: string[] = [];
    const send = async (body: Record<string, unknown>, headers: Record<string, string>) => {
      const res = await chat(gw.url, { messages: [{ role: "user", content: PROMPT }], ...body }, headers);
      answers.push(`${res.status} ${[...res.headers].join(" ")} ${await res.text()}`);
      return res.status;
    };
    expect(await send({ model: "m" }, auth)).toBe(200); // after a failed attempt on "down"
    expect(await send({ model: "m", stream: true }, auth)).toBe(200);
    expect(await send({ model: "rejected" }, auth)).toBe(502); // the upstream refuses (and quotes) its key: upstream_auth_error
    expect(await send({ model: "m" }, { authorization: `Bearer ${WRONG_KEY}` })).toBe(401);
    expect(await send({ model: "m" }, { "x-api-key": CLIENT_KEY })).toBe(200); // $1.20 spent
    await eventually(() => gw.logs().some((l) => l.event === "budget_threshold"));
    expect(await send({ model: "m" }, auth)).toBe(429); // $0.40 more does not fit $1.50
    const access = gw.logs().filter((l) => l.msg === "request" && l.keyName === "client");
    expect(access.length).toBeGreaterThanOrEqual(5);
    const raw = gw.rawLogs();
    for (const secret of [CLIENT_KEY, WRONG_KEY, UPSTREAM_KEY, PROMPT]) {
      expect({ secret, inLogs: raw.includes(secret), inAnswers: answers.some((a) => a.includes(secret)) }).toEqual({ secret, inLogs: false, inAnswers: false });
    }
  });
});
