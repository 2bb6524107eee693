/**
 * Attacks on what a request is charged, through the pipeline with a Redis-backed gateway:
 * - a client that closes a stream after the last content token (before the usage chunk), an
 *   upstream that sends no usage, and image generations used to cost $0; they are now charged
 *   the gateway's own count (prompt estimate + what was delivered), marked estimated;
 * - a huge or malformed usage block used to fail the whole settlement batch and flip the replica
 *   to local limits; it now fails alone and everyone else's spend is recorded;
 * - an unpriced model counted as $0 for a budgeted key; it is now refused (or takes
 *   `pricing.default`), and start-up warns about it;
 * - a key allowed only `cheap` was served (and billed) by its fallback `premium`; fallbacks the
 *   key may not use are skipped, and the served model's price is the one charged.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream, type RecordedRequest } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { mockChatCompletion } from "../../../gateway/src/upstream/mock-responses";
import { eventually } from "./fakes";
import { chat, metricValue, startTrafficGateway, type GatewayInput } from "./http-helpers";

const KEY = "sk-usage-attack-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };
const GAUGE = 'aigw_budget_used_ratio{key="payer",team="default"}';

describe("what a request is charged (Redis store)", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway | null = null;

  beforeEach(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
    await upstream.stop();
    await redis.stop();
  });

  async function start(input: Partial<GatewayInput> = {}): Promise<TestGateway> {
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { url: redis.url },
      // $1 per 1 000 000 000 nano: 1 000 $/MTok output = $0.001 a token; prompt free.
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 1_000 } },
      keys: [{ name: "payer", key: KEY, limits: { monthlyBudgetUsd: 10 } }],
      ...input,
    });
    return gw;
  }

  it("charges a stream the client closed before the usage chunk from the deltas it received, marked estimated", async () => {
    upstream.behavior = { kind: "ok", tokens: 8, interTokenMs: 40 };
    const g = await start();
    const aborter = new AbortController();
    const res = await chat(g.url, { model: "m", stream: true, max_tokens: 8 }, AUTH);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    // Read until the 8th content token, then leave: the finish and usage chunks never arrive.
    while ((text.match(/"content":"[^"]+"/g) ?? []).length < 8) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString("utf8");
    }
    expect(text).not.toContain('"usage":{');
    aborter.abort();
    await reader.cancel();
    await eventually(async () => ((await metricValue(g.url, GAUGE)) ?? 0) > 0); // was $0
    const line = g.logs().find((l) => l.msg === "request" && l.usageEstimated === true);
    expect(line).toMatchObject({ keyName: "payer", status: 499 });
    expect(line!.completionTokens as number).toBeGreaterThanOrEqual(8);
    expect(await metricValue(g.url, 'aigw_usage_estimated_total{model="m"}')).toBe(1);
    expect(await metricValue(g.url, GAUGE)).toBeCloseTo(((line!.completionTokens as number) * 0.001) / 10, 9);
  });

  it("charges an answer without usage, and image generations, from what was delivered", async () => {
    const noUsage = { ...mockChatCompletion({ model: "m" }, 8, "up"), usage: undefined };
    upstream.behavior = (request: RecordedRequest) =>
      request.path.endsWith("/images/generations") ? { kind: "ok" } : { kind: "garbage", body: JSON.stringify(noUsage), contentType: "application/json" };
    const g = await start({ pricing: { m: { inputPerMTok: 0, outputPerMTok: 1_000 }, img: { inputPerMTok: 0, outputPerMTok: 10 } }, models: [
      { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
      { name: "img", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
    ] });
    const res = await chat(g.url, { model: "m", max_tokens: 8 }, AUTH);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await eventually(async () => ((await metricValue(g.url, GAUGE)) ?? 0) > 0); // was $0
    const before = (await metricValue(g.url, GAUGE))!;
    const image = await fetch(`${g.url}/v1/images/generations`, { method: "POST", headers: { "content-type": "application/json", ...AUTH }, body: JSON.stringify({ model: "img", prompt: "a cat", n: 2 }) });
    expect(image.status).toBe(200);
    await image.arrayBuffer();
    // Two images delivered at 4160 output tokens each, $10 per MTok: $0.0832 on a $10 budget.
    await eventually(async () => Math.abs(((await metricValue(g.url, GAUGE)) ?? 0) - before - 0.00832) < 1e-6);
    expect(g.logs().filter((l) => l.msg === "request" && l.usageEstimated === true)).toHaveLength(2);
  });

  it("keeps shared limits and everyone's spend when one upstream reply carries a huge or malformed usage block", async () => {
    upstream.behavior = (request: RecordedRequest) => {
      const poison = (request.json as { user?: string } | null)?.user;
      if (poison === "huge") return { kind: "garbage", body: JSON.stringify({ ...mockChatCompletion({ model: "m" }, 8, "up"), usage: { prompt_tokens: 1e300, completion_tokens: 1e300, total_tokens: 1e300 } }), contentType: "application/json" };
      if (poison === "junk") return { kind: "garbage", body: JSON.stringify({ ...mockChatCompletion({ model: "m" }, 8, "up"), usage: { prompt_tokens: "9e99", completion_tokens: -5 } }), contentType: "application/json" };
      return { kind: "ok", tokens: 8 };
    };
    const g = await start({
      keys: [
        { name: "payer", key: KEY, limits: { monthlyBudgetUsd: 10 } },
        { name: "attacker", key: "sk-poison-0123456789", limits: { monthlyBudgetUsd: 10 } },
      ],
    });
    const requests: Promise<number>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 4; i++) requests.push(chat(g.url, { model: "m", max_tokens: 8 }, AUTH).then(async (r) => (await r.arrayBuffer(), r.status)));
      for (const user of ["huge", "junk"]) requests.push(chat(g.url, { model: "m", max_tokens: 8, user }, { authorization: "Bearer sk-poison-0123456789" }).then(async (r) => (await r.arrayBuffer(), r.status)));
    }
    expect(new Set(await Promise.all(requests))).toEqual(new Set([200]));
    // 20 normal requests of 8 tokens at $0.001: $0.16 of $10, every one of them recorded.
    await eventually(async () => Math.abs(((await metricValue(g.url, GAUGE)) ?? 0) - 0.016) < 1e-9);
    expect(await metricValue(g.url, "aigw_store_fallback")).toBe(0); // was 1: the batch failed
    expect(await metricValue(g.url, 'aigw_store_errors_total{store="redis"}')).toBeNull();
    // The attacker's replies were charged the gateway's estimate, capped: never an absurd bill.
    const attacker = (await metricValue(g.url, 'aigw_budget_used_ratio{key="attacker",team="default"}')) ?? 0;
    expect(attacker).toBeGreaterThan(0);
    expect(attacker).toBeLessThan(1);
  });

  it("refuses an unpriced model for a budgeted key, warns at start, and applies pricing.default when set", async () => {
    const g = await start({
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "new-model", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
      ],
      keys: [
        { name: "payer", key: KEY, limits: { monthlyBudgetUsd: 10 } },
        { name: "free", key: "sk-free-0123456789" },
      ],
    });
    expect(g.logs().find((l) => l.keyName === "payer" && String(l.msg).includes("no price"))).toMatchObject({ models: ["new-model"], level: "warn" });
    const refused = await chat(g.url, { model: "new-model", max_tokens: 8 }, AUTH);
    expect(refused.status).toBe(403); // was 200, at $0
    expect(((await refused.json()) as { error: unknown }).error).toMatchObject({ code: "model_not_priced", type: "permission_error", param: "model" });
    expect(upstream.completions).toHaveLength(0);
    // A key without a budget is not affected.
    const free = await chat(g.url, { model: "new-model" }, { authorization: "Bearer sk-free-0123456789" });
    expect(free.status).toBe(200);
    await free.arrayBuffer();
    await g.close();

    const priced = await start({
      models: [{ name: "new-model", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      pricing: { default: { inputPerMTok: 0, outputPerMTok: 1_000 } },
      redis: { url: redis.url, keyPrefix: "priced:" },
    });
    expect(priced.logs().some((l) => String(l.msg).includes("no price"))).toBe(false);
    const ok = await chat(priced.url, { model: "new-model", max_tokens: 8 }, AUTH);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    await eventually(async () => Math.abs(((await metricValue(priced.url, GAUGE)) ?? 0) - 0.0008) < 1e-9);
  });

  it("skips a fallback the key may not use, and charges the served fallback's price when it may", async () => {
    const cheapDown = await MockUpstream.start("cheap-down", { kind: "status", status: 500 });
    const premium = await MockUpstream.start("premium", { kind: "ok", tokens: 8 });
    try {
      const g = await start({
        models: [
          { name: "cheap", fallbacks: ["premium"], targets: [{ name: "c", baseUrl: cheapDown.baseUrl }] },
          // Billed upstream under a name with no price: the pool's own price applies.
          { name: "premium", targets: [{ name: "p", baseUrl: premium.baseUrl, model: "premium-2026-01" }] },
        ],
        pricing: { cheap: { inputPerMTok: 0, outputPerMTok: 1 }, premium: { inputPerMTok: 0, outputPerMTok: 1_000 } },
        keys: [
          { name: "payer", key: KEY, models: ["cheap"], limits: { monthlyBudgetUsd: 10 } },
          { name: "both", key: "sk-both-0123456789", models: ["cheap", "premium"], limits: { monthlyBudgetUsd: 10 } },
        ],
      });
      const onlyCheap = await chat(g.url, { model: "cheap", max_tokens: 8 }, AUTH);
      expect(onlyCheap.status).toBe(502); // was 200 from premium
      await onlyCheap.arrayBuffer();
      expect(premium.completions).toHaveLength(0);

      const both = await chat(g.url, { model: "cheap", max_tokens: 8 }, { authorization: "Bearer sk-both-0123456789" });
      expect(both.status).toBe(200);
      expect(both.headers.get("x-gateway-model")).toBe("premium");
      await both.arrayBuffer();
      // 8 tokens at premium's $1 000 per MTok ($0.008 of $10), not cheap's $1 per MTok.
      await eventually(async () => Math.abs(((await metricValue(g.url, 'aigw_budget_used_ratio{key="both",team="default"}')) ?? 0) - 0.0008) < 1e-9);
    } finally {
      await cheapDown.stop();
      await premium.stop();
    }
  });
});
