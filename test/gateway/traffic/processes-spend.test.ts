/**
 * Spend seen the same three ways (issue 12, "done means"): two real gateway processes share one
 * real Redis; a budgeted key sends JSON and streamed requests to both, through the OpenAI SDK,
 * with usage that has cached and reasoning tokens. Its spend in aigw_spend_usd_total (summed
 * over both processes), in the access-log lines (summed over both) and in the admin spend API
 * (from the daily rollups in Redis, asked of either process) agree within rounding, and match
 * the price table: gpt-4.1-nano at $0.10 in, $0.025 cached, $0.40 out per million tokens.
 */
import OpenAI from "openai";
import { eventually, spawnGateway, type SpawnedGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { metricValue } from "../../helpers/http-client";

const ALICE_KEY = "sk-alice-spend-5e3b9d1c70";
const ADMIN_KEY = "admin-spend-key-0123456789";
// 1,000 prompt tokens (400 cached) and 500 completion tokens (200 reasoning) per request:
// 600 × $0.10 + 400 × $0.025 + 500 × $0.40 per million = $0.00027.
const USAGE = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500, prompt_tokens_details: { cached_tokens: 400 }, completion_tokens_details: { reasoning_tokens: 200 } };
const PER_REQUEST_USD = 0.00027;

const completion = JSON.stringify({ id: "c1", object: "chat.completion", created: 0, model: "gpt-4.1-nano-2025-04-14", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }], usage: USAGE });
const streamChunks = [
  `data: ${JSON.stringify({ id: "c2", object: "chat.completion.chunk", created: 0, model: "gpt-4.1-nano-2025-04-14", choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }] })}\n\n`,
  `data: ${JSON.stringify({ id: "c2", object: "chat.completion.chunk", created: 0, model: "gpt-4.1-nano-2025-04-14", choices: [], usage: USAGE })}\n\n`,
  "data: [DONE]\n\n",
];

describe("a budgeted key's spend across two gateway processes and one Redis", () => {
  let redis: TestRedis;
  let json: MockUpstream;
  let sse: MockUpstream;
  const gateways: SpawnedGateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    json = await MockUpstream.start("json", { kind: "garbage", body: completion, contentType: "application/json" });
    sse = await MockUpstream.start("sse", { kind: "sse", chunks: streamChunks });
    const config = {
      server: { host: "127.0.0.1", port: 0 },
      healthCheck: { enabled: false },
      // The client's name is the pool; the target renames it to a dated snapshot, priced through its alias.
      models: [
        { name: "nano", targets: [{ name: "json", baseUrl: json.baseUrl, model: "gpt-4.1-nano-2025-04-14" }] },
        { name: "nano-stream", targets: [{ name: "sse", baseUrl: sse.baseUrl, model: "gpt-4.1-nano-2025-04-14" }] },
      ],
      redis: { url: redis.url, commandTimeoutMs: 5_000 },
      auth: { adminKey: "${ADMIN_KEY}" },
      spend: { flushIntervalMs: 100 },
      keys: [{ name: "alice", key: "${ALICE_KEY}", team: "research", limits: { monthlyBudgetUsd: 10 } }],
    };
    for (let i = 0; i < 2; i++) gateways.push(await spawnGateway(config, { ALICE_KEY, ADMIN_KEY }));
  });
  afterAll(async () => {
    for (const g of gateways) {
      g.kill("SIGTERM");
      await g.exited;
    }
    await json.stop();
    await sse.stop();
    await redis.stop();
  });

  it("agree in the metric, the access log and the admin API", async () => {
    const clients = gateways.map((g) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: ALICE_KEY, maxRetries: 0 }));
    for (let i = 0; i < 6; i++) {
      const answer = await clients[i % 2].chat.completions.create({ model: "nano", max_tokens: 600, messages: [{ role: "user", content: "hello" }] });
      expect(answer.usage?.completion_tokens_details?.reasoning_tokens).toBe(200);
    }
    // Streams read to their end (the SDK stops at [DONE] and may hang up before the last byte: a 499).
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gateways[i].url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ALICE_KEY}` },
        body: JSON.stringify({ model: "nano-stream", stream: true, max_tokens: 600, messages: [{ role: "user", content: "hello" }] }),
      });
      expect(await res.text()).toContain("[DONE]");
    }
    const requests = 8;
    const expectedUsd = requests * PER_REQUEST_USD;

    // The metric, summed over both processes.
    let metricUsd = 0;
    for (const g of gateways) {
      const text = await (await fetch(`${g.url}/metrics`)).text();
      metricUsd += (metricValue(text, "aigw_spend_usd_total", { key: "alice", team: "research", model: "nano" }) ?? 0) + (metricValue(text, "aigw_spend_usd_total", { key: "alice", team: "research", model: "nano-stream" }) ?? 0);
      expect(metricValue(text, "aigw_tokens_total", { key: "alice", model: "nano", kind: "cached_prompt" })).toBeGreaterThan(0);
      expect(metricValue(text, "aigw_tokens_total", { key: "alice", model: "nano", kind: "reasoning" })).toBeGreaterThan(0);
    }

    // The access log, summed over both processes (the lines reach stdout within its 250 ms flush).
    const lines = () => gateways.flatMap((g) => g.output().split("\n").filter((l) => l.includes('"msg":"request"') && l.includes('"route":"chat.completions"')).map((l) => JSON.parse(l) as Record<string, unknown>));
    await eventually(() => lines().length === requests, 5_000);
    const logged = lines();
    for (const line of logged) {
      expect(line).toMatchObject({ level: "info", keyName: "alice", team: "research", upstreamModel: "gpt-4.1-nano-2025-04-14", cachedTokens: 400, reasoningTokens: 200, costEstimated: false, clientIp: "127.0.0.1", status: 200 });
    }
    expect(logged.filter((l) => l.stream === true)).toHaveLength(2);
    const logUsd = logged.reduce((sum, l) => sum + (l.costUsd as number), 0);

    // The admin API, from the rollups in Redis, asked of the other process.
    type Report = { scope: string; totals: { requests: number; cost_usd: number; cached_input_tokens: number; reasoning_tokens: number }; groups: { key: string; totals: { cost_usd: number; cost_nano_usd: number; requests: number } }[] };
    const today = new Date().toISOString().slice(0, 10);
    let report: Report | null = null;
    await eventually(async () => {
      const res = await fetch(`${gateways[1].url}/admin/spend/keys?date=${today}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      report = (await res.json()) as Report;
      return report.totals.requests === requests;
    }, 10_000, 100);
    const alice = report!.groups.find((g) => g.key === "alice")!;

    expect(report!.scope).toBe("fleet");
    expect(alice.totals.requests).toBe(requests);
    expect(report!.totals.cached_input_tokens).toBe(requests * 400);
    expect(report!.totals.reasoning_tokens).toBe(requests * 200);
    // Integer nano-USD in the rollups: exact.
    expect(alice.totals.cost_nano_usd).toBe(requests * 270_000);
    for (const seen of [metricUsd, logUsd, alice.totals.cost_usd]) expect(seen).toBeCloseTo(expectedUsd, 9);

    // The budget (settled through its own Lua script) counted the same amount.
    const budget = metricValue(await (await fetch(`${gateways[0].url}/metrics`)).text(), "aigw_budget_used_ratio", { key: "alice" });
    const budget2 = metricValue(await (await fetch(`${gateways[1].url}/metrics`)).text(), "aigw_budget_used_ratio", { key: "alice" });
    expect(Math.max(budget ?? 0, budget2 ?? 0) * 10).toBeCloseTo(expectedUsd, 9);
  });
});
