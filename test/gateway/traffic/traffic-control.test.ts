/**
 * The TrafficControl the pipeline calls, on the memory store: passthrough, keys, per-IP limit,
 * model permission, headers, token reservation and settlement, budgets and the cache.
 */
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";
import { validateConfig } from "../../../gateway/src/config/validate";
import { errorBody, GatewayError } from "../../../gateway/src/errors";
import { createTrafficControl } from "../../../gateway/src/traffic";
import type { GatewayTrafficControl } from "../../../gateway/src/traffic/traffic-control";
import type { AdmissionRequest, ClientIdentity } from "../../../gateway/src/traffic/types";
import { countChatTokens } from "../../../gateway/src/limits/tokens";
import { recordingLogger, recordingMetrics } from "./fakes";
import { createLogger } from "../../../gateway/src/log";
import { Writable } from "node:stream";

const models = [
  { name: "gpt-4.1", targets: [{ name: "t", baseUrl: "mock://t" }] },
  { name: "other", targets: [{ name: "t", baseUrl: "mock://t" }] },
];

const chatBody = { model: "gpt-4.1", messages: [{ role: "user", content: "hello world" }], max_tokens: 100 };
const request = (identity: ClientIdentity | null, body: Record<string, unknown> = chatBody, stream = false): AdmissionRequest => ({
  identity,
  route: "chat.completions",
  model: String(body.model),
  body,
  stream,
});

/** The refusal: traffic control answers may be synchronous, but a refusal is always a rejected promise. */
async function caught(answer: unknown): Promise<GatewayError> {
  if (!(answer instanceof Promise)) throw new Error("expected a refusal (a rejected promise), got an answer");
  const err = await answer.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(err)}`);
  return err;
}

const header = (headers: readonly [string, string][], name: string) => headers.find(([n]) => n === name)?.[1];
/** A header of an admission's flat list (name, value, …). */
const flatHeader = (headers: readonly string[], name: string) => { const at = headers.findIndex((n, i) => i % 2 === 0 && n === name); return at < 0 ? undefined : headers[at + 1]; };

describe("createTrafficControl (memory store)", () => {
  let tc: GatewayTrafficControl | null = null;
  let metrics = recordingMetrics();
  let logger = recordingLogger();
  let now = Date.UTC(2025, 5, 15);
  const build = (input: Partial<GatewayConfigInput>) => {
    metrics = recordingMetrics();
    logger = recordingLogger();
    tc = createTrafficControl(validateConfig({ models, ...input }), { metrics, logger, now: () => now });
    return tc;
  };
  afterEach(async () => {
    await tc?.close();
    tc = null;
  });

  it("is passthrough when nothing is configured, and not otherwise", () => {
    expect(build({}).passthrough).toBe(true);
    expect(build({}).handleAdmin).toBeNull();
    expect(build({ auth: { perIp: {} } }).passthrough).toBe(false);
    expect(build({ cache: { enabled: true } }).passthrough).toBe(false);
    expect(build({ keys: [{ name: "a", key: "sk-a-secret" }] }).passthrough).toBe(false);
  });

  it("answers a missing or unknown key with 401 invalid_api_key, never echoing the key", async () => {
    const t = build({ keys: [{ name: "alice", key: "sk-alice-secret" }] });
    const missing = await caught(t.authenticate({}, "127.0.0.1"));
    expect(missing.code).toBe("GW_ERR_INVALID_API_KEY");
    const wrong = await caught(t.authenticate({ authorization: "Bearer sk-wrong-guess-123" }, "127.0.0.1"));
    const body = errorBody(wrong);
    expect(body.status).toBe(401);
    expect(JSON.parse(body.body).error.code).toBe("invalid_api_key");
    expect(body.body).not.toContain("sk-wrong-guess-123");
    expect(metrics.rejections.get({ reason: "missing_key" })).toBe(1);
    expect(metrics.rejections.get({ reason: "invalid_key" })).toBe(1);
    expect(await t.authenticate({ "x-api-key": "sk-alice-secret" }, "127.0.0.1")).toMatchObject({ keyName: "alice" });
  });

  it("lets anonymous requests through when auth.required is false", async () => {
    const t = build({ auth: { required: false }, keys: [{ name: "alice", key: "sk-alice-secret" }] });
    expect(await t.authenticate({}, "127.0.0.1")).toBeNull();
    expect(await t.authenticate({ authorization: "Bearer nope-nope" }, "127.0.0.1")).toBeNull();
    expect((await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1"))?.keyName).toBe("alice");
    expect((await t.admit(request(null))).headers).toEqual([]);
  });

  it("limits requests per IP before looking at the key", async () => {
    const t = build({ auth: { perIp: { requests: 3, windowMs: 10_000 } }, keys: [{ name: "alice", key: "sk-alice-secret" }] });
    for (let i = 0; i < 3; i++) await caught(t.authenticate({ authorization: "Bearer guess" }, "10.0.0.1"));
    const limited = await caught(t.authenticate({ authorization: "Bearer sk-alice-secret" }, "10.0.0.1"));
    expect(limited.code).toBe("GW_ERR_RATE_LIMITED");
    expect(Number(header(limited.headers, "retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "10.0.0.2")).not.toBeNull();
    expect(metrics.rejections.get({ reason: "per_ip" })).toBe(1);
  });

  it("refuses a model the key may not use with 403", async () => {
    const t = build({ keys: [{ name: "alice", key: "sk-alice-secret", models: ["other"] }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const err = await caught(t.admit(request(alice)));
    expect(err.status).toBe(403);
    expect(err.param).toBe("model");
    expect(metrics.rejections.get({ reason: "model_not_allowed" })).toBe(1);
  });

  it("applies plan limits, sends x-ratelimit-* headers and refuses with 429 and Retry-After", async () => {
    const t = build({ plans: { free: { requestsPerMinute: 2 } }, keys: [{ name: "alice", key: "sk-alice-secret", plan: "free" }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const first = await t.admit(request(alice));
    expect(first.headers).toEqual([
      "x-ratelimit-limit-requests", "2",
      "x-ratelimit-remaining-requests", "1",
      "x-ratelimit-reset-requests", "30s",
    ]);
    await t.admit(request(alice));
    const err = await caught(t.admit(request(alice)));
    expect(err.code).toBe("GW_ERR_RATE_LIMITED");
    expect(JSON.parse(errorBody(err).body).error.code).toBe("rate_limit_exceeded");
    expect(header(err.headers, "x-ratelimit-remaining-requests")).toBe("0");
    expect(Number(header(err.headers, "retry-after"))).toBeGreaterThan(0);
    expect(metrics.rejections.get({ reason: "requests" })).toBe(1);
  });

  it("reserves prompt + max_tokens and settles to the real usage", async () => {
    const t = build({ keys: [{ name: "alice", key: "sk-alice-secret", limits: { tokensPerMinute: 1_000 } }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const reserved = countChatTokens(chatBody) + 100;
    const first = await t.admit(request(alice));
    expect(flatHeader(first.headers, "x-ratelimit-remaining-tokens")).toBe(String(1_000 - reserved));
    first.settle({ promptTokens: 10, completionTokens: 20 }, "gpt-4.1");
    first.settle({ promptTokens: 500, completionTokens: 500 }, "gpt-4.1"); // only the first call counts
    const second = await t.admit(request(alice));
    expect(flatHeader(second.headers, "x-ratelimit-remaining-tokens")).toBe(String(1_000 - 30 - reserved));
    // Unknown usage keeps the reservation.
    second.settle(null, "gpt-4.1");
    const third = await t.admit(request(alice));
    expect(flatHeader(third.headers, "x-ratelimit-remaining-tokens")).toBe(String(1_000 - 30 - 2 * reserved));
  });

  it("refuses for ever a request larger than the token limit, without retry", async () => {
    const t = build({ keys: [{ name: "alice", key: "sk-alice-secret", limits: { tokensPerMinute: 50 } }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const err = await caught(t.admit(request(alice)));
    expect(err.code).toBe("GW_ERR_RATE_LIMITED");
    expect(err.message).toMatch(/Request too large/);
    expect(header(err.headers, "x-should-retry")).toBe("false");
    expect(metrics.rejections.get({ reason: "tokens" })).toBe(1);
  });

  it("holds a concurrency slot until settle", async () => {
    const t = build({ keys: [{ name: "alice", key: "sk-alice-secret", limits: { concurrent: 1 } }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const first = await t.admit(request(alice));
    expect((await caught(t.admit(request(alice)))).message).toMatch(/concurrent/);
    first.settle(null, "gpt-4.1");
    await new Promise((r) => setImmediate(r));
    await t.admit(request(alice));
    expect(metrics.rejections.get({ reason: "concurrency" })).toBe(1);
  });

  it("tracks spend, sets the used-ratio gauge, logs the 80% crossing and refuses at 100% with insufficient_quota", async () => {
    // gpt-4.1: $2 in / $8 out per MTok; budget $0.01 = 10_000_000 nano.
    const t = build({ teams: { research: { monthlyBudgetUsd: 1 } }, keys: [{ name: "alice", key: "sk-alice-secret", team: "research", limits: { monthlyBudgetUsd: 0.01 } }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const flush = () => new Promise((r) => setImmediate(r));
    // Each request reserves its worst case, and completion counts are capped at its max_tokens.
    (await t.admit(request(alice, { ...chatBody, max_tokens: 1000 }))).settle({ promptTokens: 500, completionTokens: 875 }, "gpt-4.1"); // $0.008
    await flush();
    expect(metrics.budgetUsedRatio.get({ key: "alice", team: "research" })).toBeCloseTo(0.8, 6);
    expect(metrics.teamBudgetUsedRatio.get({ team: "research" })).toBeCloseTo(0.008, 6);
    const events = logger.lines.filter((l) => (l.obj as { event?: string }).event === "budget_threshold");
    expect(events).toHaveLength(1);
    expect(events[0].obj).toMatchObject({ keyName: "alice", threshold: 0.8, scope: "key" });
    (await t.admit(request(alice, { ...chatBody, max_tokens: 1 }))).settle({ promptTokens: 1000, completionTokens: 0 }, "gpt-4.1"); // +$0.002
    await flush();
    const err = await caught(t.admit(request(alice)));
    expect(err.code).toBe("GW_ERR_BUDGET_EXCEEDED");
    const body = errorBody(err);
    expect(body.status).toBe(429);
    expect(JSON.parse(body.body).error).toMatchObject({ code: "insufficient_quota", type: "insufficient_quota" });
    expect(header(err.headers, "x-should-retry")).toBe("false");
    expect(metrics.rejections.get({ reason: "budget" })).toBe(1);
    expect(logger.lines.filter((l) => (l.obj as { threshold?: number }).threshold === 1)).toHaveLength(1);
  });

  it("caches deterministic answers: miss, then hit, per key scope, until the TTL", async () => {
    const t = build({ cache: { enabled: true, ttlMs: 60_000 }, keys: [{ name: "alice", key: "sk-alice-secret" }, { name: "bob", key: "sk-bob-secret" }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const bob = await t.authenticate({ authorization: "Bearer sk-bob-secret" }, "127.0.0.1");
    const body = { ...chatBody, temperature: 0 };
    const miss = await t.cacheLookup(request(alice, body), Buffer.from(""), {});
    expect(miss.hit).toBeNull();
    expect(miss.key).toMatch(/^[0-9a-f]{64}$/);
    t.cacheStore(miss.key!, { status: 200, contentType: "application/json", body: Buffer.from('{"ok":1}') });
    t.cacheStore("ignored", { status: 500, contentType: "application/json", body: Buffer.from("{}") });
    const hit = await t.cacheLookup(request(alice, { ...body, user: "someone" }), Buffer.from(""), {});
    expect(hit.hit?.body.toString()).toBe('{"ok":1}');
    expect((await t.cacheLookup(request(bob, body), Buffer.from(""), {})).hit).toBeNull();
    expect(await t.cacheLookup(request(alice, { ...body, temperature: 1 }), Buffer.from(""), {})).toEqual({ hit: null, key: null });
    expect(metrics.cacheRequests.get({ result: "hit" })).toBe(1);
    expect(metrics.cacheRequests.get({ result: "miss" })).toBe(2);
    now += 60_000;
    expect((await t.cacheLookup(request(alice, body), Buffer.from(""), {})).hit).toBeNull();
  });

  it("counts a cache hit as a request but refunds its token reservation and spends nothing", async () => {
    const t = build({ cache: { enabled: true }, keys: [{ name: "alice", key: "sk-alice-secret", limits: { requestsPerMinute: 10, tokensPerMinute: 1_000, monthlyBudgetUsd: 1 } }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    const body = { ...chatBody, temperature: 0 };
    const first = request(alice, body);
    const admitted = await t.admit(first);
    const miss = await t.cacheLookup(first, Buffer.from(""), {});
    t.cacheStore(miss.key!, { status: 200, contentType: "application/json", body: Buffer.from("{}") });
    admitted.settle({ promptTokens: 0, completionTokens: 0 }, "gpt-4.1");
    const second = request(alice, body);
    const hitAdmission = await t.admit(second);
    expect((await t.cacheLookup(second, Buffer.from(""), {})).hit).not.toBeNull();
    // The pipeline may pass null (no upstream usage) or anything else: a hit settles as zero.
    hitAdmission.settle({ promptTokens: 400, completionTokens: 400 }, "gpt-4.1");
    await new Promise((r) => setImmediate(r));
    const third = await t.admit(request(alice, body));
    expect(flatHeader(third.headers, "x-ratelimit-remaining-requests")).toBe("7");
    expect(flatHeader(third.headers, "x-ratelimit-remaining-tokens")).toBe(String(1_000 - (countChatTokens(body) + 100)));
    expect(metrics.budgetUsedRatio.get({ key: "alice", team: "default" })).toBe(0);
  });

  it("never puts a clear key in logs or metric labels", async () => {
    const t = build({ auth: { adminKey: "admin-secret-0123456789" }, plans: { p: { requestsPerMinute: 1 } }, keys: [{ name: "alice", key: "sk-alice-secret", plan: "p", limits: { monthlyBudgetUsd: 1 } }] });
    const alice = await t.authenticate({ authorization: "Bearer sk-alice-secret" }, "127.0.0.1");
    (await t.admit(request(alice))).settle({ promptTokens: 1, completionTokens: 1 }, "gpt-4.1");
    await caught(t.admit(request(alice)));
    await caught(t.authenticate({ authorization: "Bearer sk-leaked-maybe" }, "127.0.0.1"));
    const everything = logger.text() + JSON.stringify([...Object.values(metrics)].map((m) => [...m.values.keys()]));
    for (const secret of ["sk-alice-secret", "sk-leaked-maybe", "admin-secret-0123456789"]) expect(everything).not.toContain(secret);
  });

  it("never puts a clear key in the real logger's output while keys are checked, spend settles past a threshold and requests fail", async () => {
    const chunks: string[] = [];
    const real = createLogger("debug", new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString("utf8")), done()) }));
    tc = createTrafficControl(
      // $1 per 1000 completion tokens; each request reserves its 900-token worst case (max_tokens).
      validateConfig({ models, auth: { adminKey: "admin-secret-0123456789" }, pricing: { "gpt-4.1": { inputPerMTok: 0, outputPerMTok: 1_000 } }, keys: [{ name: "alice", key: "sk-alice-secret", models: ["gpt-4.1"], limits: { monthlyBudgetUsd: 1, requestsPerMinute: 10 } }] }),
      { metrics: recordingMetrics(), logger: real, now: () => now },
    );
    const t = tc;
    const alice = await t.authenticate({ "x-api-key": "sk-alice-secret" }, "127.0.0.1");
    const big = { ...chatBody, max_tokens: 900 };
    (await t.admit(request(alice, big))).settle({ promptTokens: 0, completionTokens: 900 }, "gpt-4.1"); // $0.90: past 80%
    await new Promise((r) => setImmediate(r));
    expect((await caught(t.admit(request(alice, { ...chatBody, model: "other" })))).code).toBe("GW_ERR_MODEL_NOT_ALLOWED");
    // $0.90 spent: the next request's $0.90 worst case does not fit.
    expect((await caught(t.admit(request(alice, big)))).code).toBe("GW_ERR_BUDGET_EXCEEDED");
    expect((await caught(t.authenticate({ authorization: "Bearer sk-leaked-maybe" }, "127.0.0.1"))).code).toBe("GW_ERR_INVALID_API_KEY");
    real.flush();
    const output = chunks.join("");
    expect(output).toContain("budget_threshold"); // the logger saw the spend
    for (const secret of ["sk-alice-secret", "sk-leaked-maybe", "admin-secret-0123456789"]) expect(output).not.toContain(secret);
  });
});
