/**
 * What a budgeted stream from an Anthropic target is charged when it ends before message_delta
 * (the client closed after the last text, or the upstream broke off or ended early). Anthropic's
 * message_start already carries a usage block (the input, and `output_tokens: 1`); it was taken as
 * the stream's usage, so such a stream was billed one output token for a whole answer, whichever
 * dialect the client spoke. The output count is known only from message_delta: until then the
 * charge is the gateway's own count of what was delivered, marked estimated (as for OpenAI streams
 * cut before their usage chunk).
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import type { TestGateway } from "../../helpers/gateway-harness";
import { mockAnthropicStreamEvents } from "../../../gateway/src/dialects/anthropic/mock";
import { startTrafficGateway } from "../traffic/http-helpers";

const KEY = "sk-anthropic-cut-0123456789";
/** The mock's cut-stream answer is 16 tokens long. */
const TOKENS = 16;

/** The mock's normal stream of TOKENS text deltas, without its message_delta and message_stop. */
function withoutMessageDelta(request: Record<string, unknown>): string[] {
  const events = mockAnthropicStreamEvents(request, TOKENS);
  return events.slice(0, events.findIndex((e) => e.startsWith("event: message_delta")));
}

describe("an Anthropic stream that ends before message_delta", () => {
  let anthropic: MockAnthropic;
  let gw: TestGateway;
  beforeAll(async () => {
    anthropic = await MockAnthropic.start({ kind: "ok", tokens: TOKENS });
    gw = await startTrafficGateway({
      models: [{ name: "claude", targets: [{ name: "anthropic", baseUrl: anthropic.baseUrl, provider: "anthropic" }] }],
      limits: { store: "memory" },
      pricing: { claude: { inputPerMTok: 0, outputPerMTok: 1_000 } },
      keys: [{ name: "payer", key: KEY, limits: { monthlyBudgetUsd: 100 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await anthropic.stop();
  });

  const lastLine = () => gw.logs().filter((l) => l.msg === "request").at(-1)!;

  /** The charge is the delivered text (at least one token a delta), estimated; never message_start's 1. */
  function expectDeliveredCharge(): void {
    const line = lastLine();
    expect(line.costEstimated).toBe(true);
    expect(line.completionTokens).toBeGreaterThanOrEqual(TOKENS);
    expect(line.costUsd).toBeGreaterThanOrEqual(TOKENS * 0.001);
  }

  it("passed through to an Anthropic client: the upstream breaks off after the last text", async () => {
    anthropic.behavior = (request) => ({ kind: "cut-stream", afterEvents: withoutMessageDelta(request.json ?? {}).length });
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    const texts: string[] = [];
    const stream = client.messages.stream({ model: "claude", max_tokens: 1_000, messages: [{ role: "user", content: "hi" }] });
    stream.on("text", (text) => texts.push(text));
    await expect(stream.finalMessage()).rejects.toThrow();
    expect(texts.length).toBe(TOKENS);
    expectDeliveredCharge();
  });

  it("translated for an OpenAI client: the upstream ends without message_delta", async () => {
    anthropic.behavior = (request) => ({ kind: "events", events: withoutMessageDelta(request.json ?? {}) });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
    let deltas = 0;
    for await (const chunk of await client.chat.completions.create({ model: "claude", messages: [{ role: "user", content: "hi" }], stream: true })) {
      if (chunk.choices[0]?.delta?.content) deltas++;
    }
    expect(deltas).toBe(TOKENS);
    expectDeliveredCharge();
  });

  it("still charges the upstream's count when message_delta arrives", async () => {
    anthropic.behavior = { kind: "ok", tokens: TOKENS };
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
    const message = await client.messages.stream({ model: "claude", max_tokens: 1_000, messages: [{ role: "user", content: "hi" }] }).finalMessage();
    expect(message.usage.output_tokens).toBe(TOKENS);
    expect([lastLine().completionTokens, lastLine().costEstimated]).toEqual([TOKENS, false]);
  });
});
