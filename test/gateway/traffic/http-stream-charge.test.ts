/**
 * What a budgeted stream is charged, through HTTP on the memory store. The gateway counts the
 * delivered text only until the upstream's usage is read (stream/sse-usage-filter.ts): these pin
 * that the charge is still the upstream's usage whenever it arrives (in the same burst as the
 * content, or early in the stream), and the gateway's own count when the stream is cut before it.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually } from "./fakes";
import { chat, metricValue, startTrafficGateway } from "./http-helpers";

const KEY = "sk-stream-charge-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };
const GAUGE = 'aigw_budget_used_ratio{key="payer",team="default"}';
/** $0.001 an output token (prompt free) on a $10 budget: the gauge moves 0.0001 a token. */
const PER_TOKEN_RATIO = 0.001 / 10;

const event = (payload: Record<string, unknown>) => `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model: "m", ...payload })}\n\n`;
const content = (text: string) => event({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
const usage = (completion: number) => event({ choices: [], usage: { prompt_tokens: 5, completion_tokens: completion, total_tokens: 5 + completion } });
const DONE = "data: [DONE]\n\n";

describe("what a budgeted stream is charged (memory store)", () => {
  let upstream: MockUpstream;
  let gw: TestGateway | null = null;

  beforeEach(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok" });
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
    await upstream.stop();
  });

  async function start(): Promise<TestGateway> {
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      limits: { store: "memory" },
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 1_000 } },
      keys: [{ name: "payer", key: KEY, limits: { monthlyBudgetUsd: 10 } }],
    });
    return gw;
  }

  async function streamed(g: TestGateway): Promise<string> {
    const res = await chat(g.url, { model: "m", stream: true, max_tokens: 50 }, AUTH);
    expect(res.status).toBe(200);
    return res.text();
  }

  const requestLine = (g: TestGateway) => g.logs().find((l) => l.msg === "request");

  it("charges the upstream's usage when the content and the usage event arrive in one burst", async () => {
    // Six content deltas, but the upstream reports 3 completion tokens: the charge must be the 3.
    const burst = [content("a"), content(" b"), content(" c"), content(" d"), content(" e"), content(" f"), usage(3), DONE].join("");
    upstream.behavior = { kind: "sse", chunks: [burst] };
    const g = await start();
    const text = await streamed(g);
    expect(text).toContain('"content":" f"');
    expect(text).not.toContain('"usage":{'); // the usage event the gateway asked for is removed
    await eventually(() => requestLine(g) !== undefined);
    expect(requestLine(g)).toMatchObject({ keyName: "payer", status: 200, completionTokens: 3 });
    expect(requestLine(g)!.usageEstimated).toBeUndefined();
    await eventually(async () => ((await metricValue(g.url, GAUGE)) ?? 0) > 0);
    expect(await metricValue(g.url, GAUGE)).toBeCloseTo(3 * PER_TOKEN_RATIO, 9);
    expect(await metricValue(g.url, 'aigw_usage_estimated_total{model="m"}')).toBeNull();
  });

  it("charges the usage read early in a stream, not the text delivered after it", async () => {
    // A server that reports usage before its last deltas (each event its own write).
    upstream.behavior = { kind: "sse", chunks: [content("a"), usage(2), content(" b"), content(" c"), content(" d"), content(" e"), DONE] };
    const g = await start();
    await streamed(g);
    await eventually(() => requestLine(g) !== undefined);
    expect(requestLine(g)).toMatchObject({ status: 200, completionTokens: 2 });
    expect(requestLine(g)!.usageEstimated).toBeUndefined();
    await eventually(async () => ((await metricValue(g.url, GAUGE)) ?? 0) > 0);
    expect(await metricValue(g.url, GAUGE)).toBeCloseTo(2 * PER_TOKEN_RATIO, 9);
  });

  it("charges a stream the upstream cuts before its usage event from the delivered text, marked estimated", async () => {
    upstream.behavior = { kind: "cut-stream", afterEvents: 6 };
    const g = await start();
    const res = await chat(g.url, { model: "m", stream: true, max_tokens: 50 }, AUTH);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('"usage":{');
    await eventually(() => requestLine(g) !== undefined);
    const line = requestLine(g)!;
    expect(line).toMatchObject({ keyName: "payer", usageEstimated: true });
    const delivered = (text.match(/"content":"[^"]+"/g) ?? []).length;
    expect(delivered).toBeGreaterThan(0);
    expect(line.completionTokens as number).toBeGreaterThanOrEqual(delivered);
    await eventually(async () => ((await metricValue(g.url, GAUGE)) ?? 0) > 0);
    expect(await metricValue(g.url, GAUGE)).toBeCloseTo((line.completionTokens as number) * PER_TOKEN_RATIO, 9);
    expect(await metricValue(g.url, 'aigw_usage_estimated_total{model="m"}')).toBe(1);
  });

  it("charges the delivered text when the only usage the upstream sent counted the prompt alone", async () => {
    // A server that reports the prompt's count first and never the completion's: that block says
    // nothing about the output, so it must not stand for 0 completion tokens.
    const promptOnly = event({ choices: [], usage: { prompt_tokens: 5 } });
    upstream.behavior = { kind: "sse", chunks: [promptOnly, content("alpha"), content(" beta"), content(" gamma"), content(" delta"), DONE] };
    const g = await start();
    await streamed(g);
    await eventually(() => requestLine(g) !== undefined);
    const line = requestLine(g)!;
    expect(line).toMatchObject({ keyName: "payer", status: 200, usageEstimated: true });
    expect(line.completionTokens as number).toBeGreaterThanOrEqual(4);
    await eventually(async () => ((await metricValue(g.url, GAUGE)) ?? 0) > 0);
    expect(await metricValue(g.url, GAUGE)).toBeCloseTo((line.completionTokens as number) * PER_TOKEN_RATIO, 9);
  });
});
