/**
 * Keys, limits, budgets, the cache, metrics and the access log on /v1/messages, as on the OpenAI
 * routes: x-api-key authentication, Anthropic-shaped refusals with their statuses, spend charged
 * from Anthropic usage (streams included) and from the gateway's own count when a translated
 * stream is cut before its usage, cache hits, and the `route` label.
 */
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { MockUpstream } from "../../helpers/mock-upstream";
import type { TestGateway } from "../../helpers/gateway-harness";
import { postJson, readStream } from "../../helpers/http-client";
import { metricValue, startTrafficGateway } from "../traffic/http-helpers";

const HELLO = [{ role: "user", content: "Hello" }];
const RICH = { "x-api-key": "sk-rich-0123456789" };
const LIMITED = { "x-api-key": "sk-limited-0123456789" };
const POOR = { authorization: "Bearer sk-poor-0123456789" };
const METERED = { "x-api-key": "sk-metered-0123456789" };

function messages(url: string, body: Record<string, unknown>, headers: Record<string, string>): Promise<Response> {
  return postJson(url, "/v1/messages", { max_tokens: 10, messages: HELLO, ...body }, headers);
}

describe("traffic control on /v1/messages", () => {
  let native: MockAnthropic;
  let cut: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    native = await MockAnthropic.start({ kind: "ok", tokens: 8 });
    cut = await MockUpstream.start("cut", { kind: "cut-stream", afterEvents: 6 });
    gw = await startTrafficGateway({
      models: [
        // Two targets on one upstream: a keep-alive connection reset on a loaded machine fails over instead of failing the test.
        { name: "claude", targets: [{ name: "anthropic", baseUrl: native.baseUrl, provider: "anthropic" }, { name: "anthropic-2", baseUrl: native.baseUrl, provider: "anthropic" }] },
        { name: "gpt-cut", targets: [{ name: "cut", baseUrl: cut.baseUrl }] },
      ],
      keys: [
        { name: "rich", key: "sk-rich-0123456789" },
        { name: "limited", key: "sk-limited-0123456789", limits: { requestsPerMinute: 2 } },
        { name: "poor", key: "sk-poor-0123456789", limits: { monthlyBudgetUsd: 100 } },
        { name: "metered", key: "sk-metered-0123456789", limits: { monthlyBudgetUsd: 100_000 } },
      ],
      // $1 a token: the spend is the token count, in dollars.
      pricing: { claude: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 }, "gpt-cut": { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } },
      cache: { enabled: true },
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([native.stop(), cut.stop()]);
  });

  it("authenticates x-api-key or Bearer, and refuses others in Anthropic's shape", async () => {
    expect((await messages(gw.url, { model: "claude" }, RICH)).status).toBe(200);
    expect((await messages(gw.url, { model: "claude" }, { authorization: "Bearer sk-rich-0123456789" })).status).toBe(200);
    const missing = await messages(gw.url, { model: "claude" }, {});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ type: "error", error: { type: "authentication_error", message: expect.any(String) } });
    expect(native.messages.every((r) => r.headers["x-api-key"] === undefined)).toBe(true);
  });

  it("refuses a key over its rate with 429 rate_limit_error and retry-after", async () => {
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 3; i++) {
      last = await messages(gw.url, { model: "claude" }, LIMITED);
      statuses.push(last.status);
      if (i < 2) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await last!.json()) as { error: { type: string } }).error.type).toBe("rate_limit_error");
  });

  it("charges a budget from Anthropic's usage, streams included, then refuses with 402 billing_error", async () => {
    const res = await messages(gw.url, { model: "claude", stream: true }, POOR);
    expect(res.status).toBe(200);
    await readStream(res);
    const line = gw.logs().filter((l) => l.msg === "request" && l.route === "messages" && l.keyName === "poor").at(-1)!;
    expect(line.completionTokens).toBe(8);
    const charged = (line.promptTokens as number) + 8;
    for (let i = 0; i < 50; i++) {
      const ratio = await metricValue(gw.url, 'aigw_budget_used_ratio{key="poor",team="default"}');
      if (ratio !== null && ratio >= charged / 100 - 1e-9) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await metricValue(gw.url, 'aigw_budget_used_ratio{key="poor",team="default"}')).toBeCloseTo(charged / 100, 6);
    let refused: Response | null = null;
    for (let i = 0; i < 20 && refused === null; i++) {
      const next = await messages(gw.url, { model: "claude" }, POOR);
      if (next.status === 200) await next.arrayBuffer();
      else refused = next;
    }
    expect(refused!.status).toBe(402);
    expect(((await refused!.json()) as { error: { type: string } }).error.type).toBe("billing_error");
  });

  it("charges the gateway's own count when a translated stream is cut before its usage", async () => {
    const res = await messages(gw.url, { model: "gpt-cut", stream: true }, METERED);
    const text = await readStream(res);
    expect(text).toMatch(/event: error\n/);
    const line = gw.logs().filter((l) => l.msg === "request" && l.route === "messages" && l.model === "gpt-cut").at(-1)!;
    expect(line.usageEstimated).toBe(true);
    expect(line.completionTokens).toBeGreaterThan(0);
  });

  it("answers a repeated deterministic message from the cache", async () => {
    const calls = native.messages.length;
    const body = { model: "claude", temperature: 0, messages: [{ role: "user", content: "cache me" }] };
    const first = await messages(gw.url, body, RICH);
    const second = await messages(gw.url, body, RICH);
    expect([first.headers.get("x-cache"), second.headers.get("x-cache")]).toEqual(["MISS", "HIT"]);
    expect(await second.json()).toEqual(await first.json());
    expect(native.messages.length).toBe(calls + 1);
  });

  it("labels metrics and the access log with the route", async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/aigw_requests_total\{route="messages",model="claude",target="anthropic",status="200"[,}]/);
    expect(gw.logs().some((l) => l.msg === "request" && l.route === "messages" && l.status === 401)).toBe(true);
  });
});
