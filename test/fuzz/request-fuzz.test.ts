/**
 * Property-based fuzzing (fast-check, fixed seed, bounded runs) of a real gateway process:
 * request bodies, methods, paths and headers, then raw bytes on the socket. Every answer must
 * be a well-formed HTTP response, every error an OpenAI-style error, never a 500, and the
 * process must never die or log an unhandled error.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import fc from "fast-check";
import { MockUpstream } from "../helpers/mock-upstream";
import { spawnGateway, testConfig, type SpawnedGateway } from "../helpers/gateway-harness";
import { openAiError, rawRequest } from "../chaos/support/http";

const SEED = 20_251_122;
const STRUCTURED_RUNS = 400;
const RAW_RUNS = 200;
const CLIENT_KEY = "sk-client-fuzz-0c1d2e3f4a5b";
const ADMIN_KEY = "sk-admin-fuzz-6a7b8c9d0e1f2a3b";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

// ---- arbitraries -------------------------------------------------------------------------

/** Characters Node lets a client send in a header value (tab, visible ASCII, latin-1). */
const headerValue = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 200 });
const headerName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/);
const anyJson = fc.jsonValue({ maxDepth: 4 });
const text = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 100 }), fc.string({ unit: "binary", maxLength: 100 }));
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 1e300, -1e300, Number.MAX_SAFE_INTEGER + 2));

const content = fc.oneof(text, fc.array(fc.record({ type: fc.constantFrom("text", "image_url", "input_audio"), text }, { requiredKeys: [] }), { maxLength: 3 }), fc.constant(null), number, anyJson);
const message = fc.record({ role: fc.oneof(fc.constantFrom("user", "system", "assistant", "tool", "developer"), text), content, name: text, tool_calls: anyJson }, { requiredKeys: [] });

const openAiBody = fc.record(
  {
    model: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("m", "mock", "e") }, fc.constantFrom("", "nope", "M", "m ", "m\u0000"), text, number, fc.constant(null), fc.array(text, { maxLength: 2 })),
    messages: fc.oneof({ weight: 4, arbitrary: fc.array(message, { maxLength: 4 }) }, anyJson),
    prompt: fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.array(fc.integer(), { maxLength: 5 }), anyJson),
    input: fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.array(fc.array(fc.integer(), { maxLength: 4 }), { maxLength: 3 }), anyJson),
    stream: fc.oneof(fc.boolean(), fc.constantFrom("true", 1, null)),
    stream_options: fc.oneof(fc.constant({ include_usage: true }), fc.constant({ include_usage: false }), anyJson),
    max_tokens: number,
    max_completion_tokens: number,
    n: number,
    temperature: fc.oneof(number, text),
    seed: number,
    tools: anyJson,
    response_format: anyJson,
    user: text,
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  { weight: 6, arbitrary: openAiBody.map((b) => Buffer.from(JSON.stringify(b))) },
  { weight: 1, arbitrary: anyJson.map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 1, arbitrary: openAiBody.chain((b) => fc.nat(JSON.stringify(b).length).map((cut) => Buffer.from(JSON.stringify(b).slice(0, cut)))) },
  { weight: 1, arbitrary: text.map((t) => Buffer.from(t)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

const path = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/images/generations") },
  { weight: 2, arbitrary: fc.constantFrom("/v1/models", "/v1/models/m", "/v1/models/nope", "/healthz", "/readyz", "/metrics", "/admin/keys", "/admin/keys/x/disable", "/v1/../admin/keys", "/v1/chat%2Fcompletions") },
  { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)) },
).chain((p) => fc.option(fc.webQueryParameters(), { nil: undefined }).map((q) => (q === undefined ? p : `${p}?${q}`)));

const method = fc.oneof({ weight: 8, arbitrary: fc.constant("POST") }, { weight: 2, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") });

const headers = fc.record(
  {
    "content-type": fc.oneof(fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""), headerValue),
    authorization: fc.oneof(fc.constantFrom(`Bearer ${CLIENT_KEY}`, `bearer ${CLIENT_KEY}`, `Bearer ${ADMIN_KEY}`, "Bearer", "Basic Zm9vOmJhcg=="), headerValue.map((v) => `Bearer ${v}`), headerValue),
    "x-api-key": fc.oneof(fc.constant(CLIENT_KEY), headerValue),
    "x-request-id": headerValue,
    "x-forwarded-for": headerValue,
    "cache-control": fc.oneof(fc.constantFrom("no-cache", "no-store", "max-age=0"), headerValue),
    accept: fc.oneof(fc.constantFrom("text/event-stream", "application/json", "*/*"), headerValue),
    "accept-encoding": fc.oneof(fc.constantFrom("gzip", "br", "identity"), headerValue),
  },
  { requiredKeys: [] },
);
const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 5 });

// ---- checks ------------------------------------------------------------------------------

function send(agent: Agent, base: URL, req: { method: string; path: string; headers: Record<string, string>; body: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const client = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: req.path, agent, timeout: 10_000 });
    for (const [name, value] of Object.entries(req.headers)) {
      try {
        client.setHeader(name, value);
      } catch {
        // A name or value Node itself refuses to send: the raw-socket property covers those.
      }
    }
    if (req.body.length > 0 || req.method === "POST") client.setHeader("content-length", String(req.body.length));
    client.on("timeout", () => client.destroy(new Error("no answer within 10 s")));
    client.on("error", reject);
    client.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    client.end(req.body);
  });
}

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
}

/** The contract every answer must meet. */
function checkAnswer(method: string, answer: Answer): void {
  expect(answer.status).toBeGreaterThanOrEqual(200);
  expect(answer.status).toBeLessThan(600);
  expect(answer.status).not.toBe(500);
  if (method === "HEAD") return;
  const type = String(answer.headers["content-type"] ?? "");
  if (answer.status >= 400) {
    openAiError(answer.status, flat(answer.headers), answer.body);
    return;
  }
  if (type.startsWith("text/event-stream")) {
    // A stream from a healthy upstream ends with [DONE].
    expect(answer.body.endsWith("data: [DONE]\n\n")).toBe(true);
  } else if (type.startsWith("application/json")) {
    expect(() => JSON.parse(answer.body)).not.toThrow();
  } else {
    expect(type).toMatch(/^text\/plain/); // /metrics
  }
}

describe("fuzzing a real gateway process", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const tried = { structured: 0, raw: 0 };
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 3 });
    gw = await spawnGateway(
      testConfig({
        server: { bodyLimitBytes: 64 * 1024, headersTimeoutMs: 2_000, requestTimeoutMs: 3_000 },
        logging: { level: "info" },
        auth: { required: false, adminKey: ADMIN_KEY },
        keys: [{ name: "fuzz", key: CLIENT_KEY, limits: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000, monthlyBudgetUsd: 1_000_000 } }],
        cache: { enabled: true },
        models: [
          { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl, apiKey: "sk-upstream-fuzz-secret" }] },
          { name: "mock", targets: [{ name: "builtin", baseUrl: "mock://builtin", mock: { tokens: 3 } }] },
          { name: "e", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        ],
      }),
    );
  });
  afterAll(async () => {
    if (gw.child.exitCode === null) {
      gw.kill("SIGTERM");
      await gw.exited;
    }
    agent.destroy();
    await upstream.stop();
    console.log(`fuzz: ${tried.structured} structured requests + ${tried.raw} raw socket requests (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  it(`answers ${STRUCTURED_RUNS} random requests (bodies, methods, paths, headers) well-formed`, async () => {
    const base = new URL(gw.url);
    await fc.assert(
      fc.asyncProperty(method, path, headers, extraHeaders, body, async (m, p, h, extra, b) => {
        tried.structured++;
        const answer = await send(agent, base, { method: m, path: p, headers: { ...extra, ...h }, body: b });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        checkAnswer(m, answer);
      }),
      { seed: SEED, numRuns: STRUCTURED_RUNS, endOnFailure: true },
    );
    expect(tried.structured).toBe(STRUCTURED_RUNS);
  }, 120_000);

  it(`answers ${RAW_RUNS} malformed raw requests with a clean error or a clean close`, async () => {
    const port = Number(new URL(gw.url).port);
    const junkLine = fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString("latin1"));
    const requestLine = fc.tuple(
      fc.oneof(fc.constantFrom("POST", "GET", "HEAD", "PRI", "CONNECT", "post", "P OST", ""), headerName),
      fc.oneof(fc.constantFrom("/v1/chat/completions", "*", "http://x/v1/chat/completions", "/v1/chat/completions#frag", "/\u0000", ""), junkLine),
      fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1 extra", "", "ICY"),
    );
    const headerLine = fc.oneof(
      fc.tuple(headerName, headerValue).map(([n, v]) => `${n}: ${v}`),
      fc.constantFrom("Host: 127.0.0.1", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Content-Length: -1", "Content-Length: 1e3", "Content-Length: 0x10", "Expect: 100-continue", "Connection: upgrade", "Upgrade: websocket", " folded", "NoColon"),
      junkLine,
    );
    await fc.assert(
      fc.asyncProperty(requestLine, fc.array(headerLine, { maxLength: 8 }), fc.uint8Array({ maxLength: 64 }), async ([m, target, version], lines, bodyBytes) => {
        tried.raw++;
        const head = `${m} ${target} ${version}\r\n${lines.join("\r\n")}${lines.length ? "\r\n" : ""}Content-Length: ${bodyBytes.length}\r\nConnection: close\r\n\r\n`;
        const answer = await rawRequest(port, Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(bodyBytes)]), { timeoutMs: 8_000 });
        if (answer.status === 0) {
          // Nothing parseable came back: only acceptable as a clean close with no bytes at all.
          expect(answer.closed).toBe(true);
          expect(answer.raw).toBe("");
          return;
        }
        expect(answer.status).not.toBe(500);
        if (answer.status >= 400 && m !== "HEAD") openAiError(answer.status, answer.headers, answer.body);
      }),
      { seed: SEED, numRuns: RAW_RUNS, endOnFailure: true },
    );
    expect(tried.raw).toBe(RAW_RUNS);
  }, 120_000);

  it("is still alive and healthy, and logged no unhandled error and no 500", async () => {
    expect(gw.child.exitCode).toBeNull();
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const lines = gw.output().split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(STRUCTURED_RUNS / 2);
    const bad = lines.filter((l) => /"level":"(error|fatal)"|uncaught|unhandled|"status":500/.test(l));
    expect(bad).toEqual([]);
    // Hundreds of requests carried these keys, and the process's whole output never shows them.
    for (const secret of [CLIENT_KEY, ADMIN_KEY, "sk-upstream-fuzz-secret"]) expect(gw.output()).not.toContain(secret);
  });
});
