/**
 * Hostile and malformed bodies on /v1/messages, to a native Anthropic target and translated to an
 * OpenAI-compatible one, and on /v1/chat/completions translated to Anthropic: every answer is a
 * clean 2xx or an error in the route's own shape, never a 500, a crash or a leaked upstream key.
 */
import fc from "fast-check";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const KEYS = ["sk-ant-hostile-secret-0001", "sk-openai-hostile-secret-0002"];

/** Values a client may put anywhere. */
const anyValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }));

const block = fc.oneof(
  fc.record({ type: fc.constant("text"), text: fc.oneof(fc.string(), anyValue) }),
  fc.record({ type: fc.constant("image"), source: fc.oneof(anyValue, fc.record({ type: fc.constantFrom("base64", "url", "file"), media_type: anyValue, data: anyValue, url: anyValue })) }),
  fc.record({ type: fc.constant("tool_use"), id: anyValue, name: anyValue, input: anyValue }),
  fc.record({ type: fc.constant("tool_result"), tool_use_id: anyValue, content: fc.oneof(anyValue, fc.array(fc.record({ type: fc.constantFrom("text", "image", "document"), text: anyValue }), { maxLength: 2 })), is_error: anyValue }),
  fc.record({ type: fc.constantFrom("thinking", "document", "redacted_thinking", "server_tool_use"), thinking: anyValue }),
  anyValue,
);

const anthropicBody = fc.record(
  {
    model: fc.constantFrom("claude", "gpt"),
    max_tokens: fc.oneof(fc.integer({ min: -2, max: 5000 }), anyValue),
    stream: fc.oneof(fc.boolean(), anyValue),
    system: fc.oneof(fc.string(), fc.array(block, { maxLength: 2 }), anyValue),
    messages: fc.oneof(fc.array(fc.record({ role: fc.oneof(fc.constantFrom("user", "assistant"), anyValue), content: fc.oneof(fc.string(), fc.array(block, { maxLength: 3 }), anyValue) }), { maxLength: 4 }), anyValue),
    tools: fc.oneof(fc.array(fc.record({ name: anyValue, type: fc.oneof(fc.constantFrom("custom", "web_search_20250305"), anyValue), input_schema: anyValue }), { maxLength: 2 }), anyValue),
    tool_choice: fc.oneof(fc.record({ type: fc.constantFrom("auto", "any", "tool", "none"), name: anyValue }), anyValue),
    stop_sequences: fc.oneof(fc.array(fc.string(), { maxLength: 2 }), anyValue),
    temperature: anyValue,
    thinking: fc.oneof(fc.record({ type: fc.constantFrom("enabled", "disabled"), budget_tokens: fc.integer({ min: 0, max: 5000 }) }), anyValue),
  },
  { requiredKeys: ["model"] },
);

const chatBody = fc.record(
  {
    model: fc.constant("claude"),
    stream: fc.boolean(),
    messages: fc.oneof(fc.array(fc.record({ role: fc.oneof(fc.constantFrom("system", "developer", "user", "assistant", "tool"), anyValue), content: fc.oneof(fc.string(), fc.array(fc.record({ type: fc.constantFrom("text", "image_url", "input_audio"), text: anyValue, image_url: anyValue }), { maxLength: 2 }), anyValue), tool_calls: fc.oneof(fc.array(fc.record({ id: anyValue, function: fc.record({ name: anyValue, arguments: anyValue }) }), { maxLength: 2 }), anyValue), tool_call_id: anyValue }), { maxLength: 4 }), anyValue),
    tools: fc.oneof(fc.array(fc.record({ type: fc.constant("function"), function: fc.oneof(fc.record({ name: anyValue, parameters: anyValue }), anyValue) }), { maxLength: 2 }), anyValue),
    tool_choice: anyValue,
    stop: anyValue,
    n: fc.integer({ min: 1, max: 3 }),
  },
  { requiredKeys: ["model", "messages"] },
);

describe("hostile bodies through the translators", () => {
  let native: MockAnthropic;
  let compat: MockUpstream;
  let gw: TestGateway;
  const statuses: Record<string, number> = {};
  beforeAll(async () => {
    native = await MockAnthropic.start({ kind: "ok", tokens: 3 });
    compat = await MockUpstream.start("compat", { kind: "ok", tokens: 3 });
    gw = await startTestGateway({
      logging: { level: "warn" },
      models: [
        { name: "claude", targets: [{ name: "anthropic", baseUrl: native.baseUrl, provider: "anthropic", apiKey: KEYS[0] }] },
        { name: "gpt", targets: [{ name: "compat", baseUrl: compat.baseUrl, apiKey: KEYS[1] }] },
      ],
    });
  });
  afterAll(async () => {
    console.log(`hostile translator bodies: statuses ${JSON.stringify(statuses)}`);
    await gw.close();
    await Promise.all([native.stop(), compat.stop()]);
  });

  async function send(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await res.text();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    expect(res.status).toBeLessThan(500);
    for (const key of KEYS) expect(text).not.toContain(key);
    if (res.status >= 400) {
      const parsed = JSON.parse(text);
      if (path.startsWith("/v1/messages")) expect(parsed).toEqual({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
      else expect(parsed.error).toEqual(expect.objectContaining({ message: expect.any(String), type: expect.any(String) }));
    }
  }

  it("answers 300 generated /v1/messages bodies, native and translated, without a 500", async () => {
    await fc.assert(fc.asyncProperty(anthropicBody, (body) => send("/v1/messages", body)), { numRuns: 300, seed: 20261129 });
  }, 120_000);

  it("answers 150 generated count_tokens bodies without a 500", async () => {
    await fc.assert(fc.asyncProperty(anthropicBody, (body) => send("/v1/messages/count_tokens", body)), { numRuns: 150, seed: 20261130 });
  }, 120_000);

  it("answers 200 generated chat bodies translated to Anthropic without a 500", async () => {
    await fc.assert(fc.asyncProperty(chatBody, (body) => send("/v1/chat/completions", body)), { numRuns: 200, seed: 20261131 });
  }, 120_000);
});
