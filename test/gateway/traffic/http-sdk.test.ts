/**
 * The official OpenAI SDK against the gateway: traffic-control refusals surface as the SDK's
 * own error classes with OpenAI's codes (AuthenticationError, PermissionDeniedError,
 * RateLimitError for rate_limit_exceeded and for insufficient_quota).
 */
import OpenAI from "openai";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually } from "./fakes";
import { metricValue, startTrafficGateway } from "./http-helpers";

describe("OpenAI SDK errors", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const ask = (client: OpenAI, model = "m") => client.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }] });

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
    gw = await startTrafficGateway({
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "private", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
      ],
      // 8 completion tokens at $125 000 per MTok = $1: one request spends the whole budget.
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 125_000 } },
      // Reserve the 8 tokens the mock answers: the worst case ($1) fits the $1 budget once.
      limits: { defaultMaxTokens: 8 },
      keys: [
        { name: "ok", key: "sk-ok-0123456789", models: ["m"], limits: { requestsPerMinute: 2 } },
        { name: "poor", key: "sk-poor-0123456789", limits: { monthlyBudgetUsd: 1 } },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  it("raises AuthenticationError for an unknown key", async () => {
    const err = await ask(sdk("sk-unknown-0123456789")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "authentication_error" });
    expect(String((err as Error).message)).not.toContain("sk-unknown-0123456789");
  });

  it("raises PermissionDeniedError for a model the key may not use", async () => {
    const err = await ask(sdk("sk-ok-0123456789"), "private").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err).toMatchObject({ status: 403, code: "model_not_allowed" });
  });

  it("raises RateLimitError with rate_limit_exceeded and Retry-After past the limit", async () => {
    const client = sdk("sk-ok-0123456789");
    const { data, response } = await ask(client).withResponse();
    expect(data.choices[0].message.content).toBeTruthy();
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("2");
    await ask(client);
    const err = await ask(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded", type: "rate_limit_error" });
    expect(Number((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("raises RateLimitError with insufficient_quota once the budget is spent", async () => {
    const client = sdk("sk-poor-0123456789");
    await ask(client);
    await eventually(async () => ((await metricValue(gw.url, 'aigw_budget_used_ratio{key="poor",team="default"}')) ?? 0) >= 1);
    const err = await ask(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "insufficient_quota", type: "insufficient_quota" });
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get("x-should-retry")).toBe("false");
  });
});
