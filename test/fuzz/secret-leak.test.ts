/**
 * Upstream keys, client keys and the admin key never appear in any response, error, log line or
 * metric: a run through successes, every kind of upstream failure (including upstreams that
 * echo the key they were sent), bad client keys and the admin API, with everything captured
 * and grepped for each secret (whole, its random part, and its SHA-256 digest).
 */
import { createHash, randomBytes } from "node:crypto";
import { MockUpstream, type Behavior, type RecordedRequest } from "../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";
import { chatBody, postJson, streamChat, type RequestOptions } from "../chaos/support/http";

const secret = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;
const UPSTREAM_KEY = secret("sk-upstream-SECRET");
const HEADER_KEY = secret("azure-SECRET");
const CLIENT_KEY = secret("sk-client-SECRET");
const ADMIN_KEY = secret("sk-admin-SECRET");
const WRONG_KEY = secret("sk-wrong-SECRET");

const echo = (status: number) => (request: RecordedRequest): Behavior => ({
  kind: "status",
  status,
  // A 429 cools its target down; the run goes on with the same target at once.
  headers: status === 429 ? { "retry-after-ms": "0" } : {},
  body: JSON.stringify({ error: { message: `Incorrect API key provided: ${request.headers.authorization ?? request.headers["api-key"]}`, type: "invalid_request_error", code: "invalid_api_key" } }),
});

/** What the upstream does, by the first message's content. */
function behave(request: RecordedRequest): Behavior {
  const messages = request.json?.messages as { content?: string }[] | undefined;
  const tag = messages?.[0]?.content ?? "ok";
  switch (tag) {
    case "echo-401":
      return echo(401)(request);
    case "echo-400":
      return echo(400)(request);
    case "echo-403":
      return echo(403)(request);
    case "echo-429":
      return echo(429)(request);
    case "echo-500":
      return echo(500)(request);
    case "echo-garbage":
      return { kind: "garbage", contentType: "text/plain", body: `key=${request.headers.authorization}` };
    case "hang":
      return { kind: "hang" };
    case "reset":
      return { kind: "reset" };
    case "cut":
      return { kind: "cut-stream", afterEvents: 2 };
    default:
      return { kind: "ok", tokens: 4 };
  }
}

describe("no secret leaks", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway;
  const captured: string[] = [];
  let runtimeKey = "";

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", behave);
    gw = await startTestGateway({
      logging: { level: "debug" },
      upstreamDefaults: { timeoutMs: 300, deadlineMs: 1_000 },
      // An upstream 401/403 holds its target out for cooldownMs: 1 ms, so the run goes on with the same target.
      passiveHealth: { failures: 1_000, cooldownMs: 1, maxCooldownMs: 1 },
      redis: { url: redis.url },
      auth: { adminKey: ADMIN_KEY },
      cache: { enabled: true },
      keys: [{ name: "client", key: CLIENT_KEY, limits: { requestsPerMinute: 10_000 } }],
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl, apiKey: UPSTREAM_KEY }] },
        { name: "azure", targets: [{ name: "azure", baseUrl: upstream.baseUrl, headers: { "api-key": HEADER_KEY } }] },
        { name: "dead", targets: [{ name: "dead", baseUrl: "http://127.0.0.1:9/v1", apiKey: UPSTREAM_KEY }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
    await redis.stop();
  });

  function keep(label: string, status: number, headers: Record<string, string>, body: string): void {
    captured.push(`${label} ${status} ${JSON.stringify(headers)} ${body}`);
  }
  const as = (key: string, header: "authorization" | "x-api-key" = "authorization"): RequestOptions => ({ headers: { [header]: header === "authorization" ? `Bearer ${key}` : key } });

  async function json(label: string, model: string, tag: string, options: RequestOptions): Promise<number> {
    const answer = await postJson(gw.url, "/v1/chat/completions", { model, messages: [{ role: "user", content: tag }] }, options);
    keep(label, answer.status, answer.headers, answer.text);
    return answer.status;
  }
  async function stream(label: string, model: string, tag: string, options: RequestOptions): Promise<number> {
    const answer = await streamChat(gw.url, { model, messages: [{ role: "user", content: tag }] }, options);
    keep(label, answer.status, answer.headers, `${answer.text}${answer.events.join("\n")}`);
    return answer.status;
  }
  async function admin(method: "GET" | "POST", path: string, key: string | null, body: unknown = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: method === "POST" ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, text };
  }

  it("runs successes, upstream failures that echo keys, bad client keys and the admin API", async () => {
    const client = as(CLIENT_KEY);
    expect(await json("ok", "m", "ok", client)).toBe(200);
    expect(await stream("ok stream", "m", "ok", client)).toBe(200);
    expect(await json("ok x-api-key", "m", "ok", as(CLIENT_KEY, "x-api-key"))).toBe(200);
    expect(await json("cached", "m", "ok", client)).toBe(200);
    for (const tag of ["echo-401", "echo-400", "echo-403", "echo-429", "echo-500", "echo-garbage", "hang", "reset"]) {
      expect(await json(tag, "m", tag, client)).toBeGreaterThanOrEqual(400);
      expect(await stream(`${tag} stream`, "m", tag, client)).toBeGreaterThanOrEqual(400);
    }
    expect(await json("azure echo", "azure", "echo-401", client)).toBe(502); // upstream_auth_error: the upstream's body is never passed on
    expect(await stream("cut", "m", "cut", client)).toBe(200);
    expect(await json("dead", "dead", "ok", client)).toBe(502);
    expect(await json("missing key", "m", "ok", {})).toBe(401);
    expect(await json("wrong key", "m", "ok", as(WRONG_KEY))).toBe(401);
    expect(await json("wrong x-api-key", "m", "ok", as(WRONG_KEY, "x-api-key"))).toBe(401);
    expect(await json("admin key as client key", "m", "ok", as(ADMIN_KEY))).toBe(401);

    for (const key of [null, WRONG_KEY, CLIENT_KEY]) {
      const refused = await admin("GET", "/admin/keys", key);
      keep("admin refused", refused.status, {}, refused.text);
      expect(refused.status).toBe(401);
    }
    const created = await admin("POST", "/admin/keys", ADMIN_KEY, { name: "runtime" });
    expect(created.status).toBe(201);
    runtimeKey = (JSON.parse(created.text) as { key: string }).key;
    // That one answer is where the new key is meant to be shown, once; nothing else may hold it.
    captured.push(created.text.replace(runtimeKey, "<shown once>"));
    expect(await json("runtime key", "m", "ok", as(runtimeKey))).toBe(200);
    for (const [method, path] of [["GET", "/admin/keys"], ["POST", "/admin/keys/runtime/disable"], ["POST", "/admin/keys/runtime/enable"]] as const) {
      const answer = await admin(method, path, ADMIN_KEY);
      keep(`admin ${path}`, answer.status, {}, answer.text);
      expect(answer.status).toBe(200);
    }
    const models = await postJson(gw.url, "/v1/models", undefined, { ...client, method: "GET" });
    keep("models", models.status, models.headers, models.text);
    expect(models.status).toBe(200);
  });

  it("finds no secret in any response, log line or metric", async () => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const haystacks = { responses: captured.join("\n"), logs: gw.rawLogs(), metrics };
    // The run was real: the upstream got its key, requests were logged, metrics were kept.
    expect(upstream.completions.some((r) => r.headers.authorization === `Bearer ${UPSTREAM_KEY}`)).toBe(true);
    expect(upstream.completions.some((r) => r.headers["api-key"] === HEADER_KEY)).toBe(true);
    expect(upstream.completions.every((r) => r.headers.authorization !== `Bearer ${CLIENT_KEY}`)).toBe(true);
    expect(haystacks.logs.split("\n").length).toBeGreaterThan(30);
    expect(metrics).toContain("aigw_requests_total");
    expect(runtimeKey).toMatch(/^sk-gw-/);

    const leaks: string[] = [];
    for (const key of [UPSTREAM_KEY, HEADER_KEY, CLIENT_KEY, ADMIN_KEY, WRONG_KEY, runtimeKey]) {
      const needles = [key, key.slice(-24), createHash("sha256").update(key).digest("hex")];
      for (const [where, text] of Object.entries(haystacks)) {
        for (const needle of needles) if (text.includes(needle)) leaks.push(`${needle.slice(0, 12)}… in ${where}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
