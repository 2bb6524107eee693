/**
 * Traffic control on /v1/responses works as on chat completions, through a real Redis: model
 * permissions, budgets charged from the Responses usage (translated and native, streams
 * included), worst-case reservations from max_output_tokens, the cache (store: false only),
 * and metrics and access-log lines under the `responses` route.
 */
import { eventually, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { metricValue, startTrafficGateway } from "../traffic/http-helpers";

const KEY = "sk-responses-payer-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };
const RATIO = 'aigw_budget_used_ratio{key="payer",team="default"}';

async function respond(url: string, body: Record<string, unknown>, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

describe("traffic control on /v1/responses (Redis)", () => {
  let redis: TestRedis;
  let chatUp: MockUpstream;
  let nativeUp: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startRedis();
    chatUp = await MockUpstream.start("chat", { kind: "ok", tokens: 8 });
    nativeUp = await MockUpstream.start("native", { kind: "ok", tokens: 8 });
    gw = await startTrafficGateway({
      redis: { url: redis.url },
      // $0.001 per output token, input free: spend = output tokens / 1000.
      pricing: { translated: { inputPerMTok: 0, outputPerMTok: 1_000 }, native: { inputPerMTok: 0, outputPerMTok: 1_000 }, other: { inputPerMTok: 0, outputPerMTok: 0 } },
      cache: { enabled: true },
      keys: [{ name: "payer", key: KEY, models: ["translated", "native"], limits: { monthlyBudgetUsd: 5 } }],
      models: [
        { name: "translated", targets: [{ name: "chat", baseUrl: chatUp.baseUrl }] },
        { name: "native", targets: [{ name: "native", baseUrl: nativeUp.baseUrl, responsesApi: "native" }] },
        { name: "other", targets: [{ name: "chat", baseUrl: chatUp.baseUrl }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([chatUp.stop(), nativeUp.stop()]);
    await redis.stop();
  });

  it("refuses a model the key may not use, and a missing key, in OpenAI's error shape", async () => {
    const denied = await respond(gw.url, { model: "other", input: "hi" });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("model_not_allowed");
    const anonymous = await respond(gw.url, { model: "translated", input: "hi" }, {});
    expect(anonymous.status).toBe(401);
  });

  it("charges the usage of translated and native answers, streams included", async () => {
    const spent = async () => (await metricValue(gw.url, RATIO)) ?? 0;
    const start = await spent();
    for (const model of ["translated", "native"]) {
      for (const stream of [false, true]) {
        const before = await spent();
        const res = await respond(gw.url, { model, input: "hello", stream });
        expect(res.status).toBe(200);
        await res.text();
        // 8 output tokens at $0.001 on a $5 budget. Spend settles as the request ends, just after the client has its last byte.
        await eventually(async () => (await spent()) - before > 0.0015);
        const after = await spent();
        expect(after - before).toBeCloseTo(0.0016, 6);
      }
    }
    expect((await spent()) - start).toBeCloseTo(0.0064, 6);
    const logs = gw.logs().filter((l) => l.msg === "request" && l.route === "responses" && l.status === 200);
    expect(logs.slice(-4).map((l) => [l.model, l.completionTokens, l.usageEstimated])).toEqual([
      ["translated", 8, undefined],
      ["translated", 8, undefined],
      ["native", 8, undefined],
      ["native", 8, undefined],
    ]);
  });

  it("reserves the worst case from max_output_tokens: a request that cannot fit the budget is refused up front", async () => {
    const before = chatUp.completions.length;
    // 6 000 output tokens at $0.001 = $6 > the $5 budget.
    const refused = await respond(gw.url, { model: "translated", input: "hello", max_output_tokens: 6_000 });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("insufficient_quota");
    expect(chatUp.completions.length).toBe(before);
    expect((await respond(gw.url, { model: "translated", input: "hello", max_output_tokens: 100 })).status).toBe(200);
  });

  it("caches deterministic store: false requests, never stored ones", async () => {
    const body = { model: "translated", input: "cache me", temperature: 0, store: false };
    const first = await respond(gw.url, body);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const firstBody = await first.json();
    const second = await respond(gw.url, body);
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(await second.json()).toEqual(firstBody);
    const stored = await respond(gw.url, { ...body, store: true });
    expect(stored.headers.get("x-cache")).toBeNull();
    await stored.text();
  });

  it("counts requests under the responses routes in the metrics", async () => {
    const made = (await (await respond(gw.url, { model: "translated", input: "hi" })).json()) as { id: string };
    await (await fetch(`${gw.url}/v1/responses/${made.id}`, { headers: AUTH })).text();
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/aigw_requests_total\{route="responses",model="translated",target="chat",status="200",key="payer",team="default"\} \d+/);
    expect(text).toMatch(/aigw_requests_total\{route="responses.get",model="",target="",status="200",key="payer",team="default"\} 1/);
    expect(text).toMatch(/aigw_tokens_total\{model="native",kind="completion",key="payer",team="default"\} \d+/);
  });
});
