/**
 * The Vercel AI SDK's `@ai-sdk/anthropic` provider pointed at the gateway: generateText and
 * streamText (text, tools, usage) on a native Anthropic target and, translated, on an
 * OpenAI-compatible one; the built-in mock Claude model of the embedded config.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

// The SDK warns that these model names are unknown to it; the tests know.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const answer = (tokens: number) => Array.from({ length: tokens }, (_, i) => mockToken(i)).join("").trimEnd();

describe("@ai-sdk/anthropic through /v1/messages", () => {
  let native: MockAnthropic;
  let compat: MockUpstream;
  let gw: TestGateway;
  let anthropic: ReturnType<typeof createAnthropic>;
  beforeAll(async () => {
    native = await MockAnthropic.start({ kind: "ok", tokens: 9 });
    compat = await MockUpstream.start("compat", { kind: "ok", tokens: 5 });
    gw = await startTestGateway({
      models: [
        { name: "claude", targets: [{ name: "anthropic", baseUrl: native.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-3" }] },
        { name: "gpt", targets: [{ name: "compat", baseUrl: compat.baseUrl }] },
        { name: "builtin-claude", targets: [{ name: "mock", baseUrl: "mock://claude", provider: "anthropic", mock: { tokens: 4 } }] },
      ],
    });
    anthropic = createAnthropic({ baseURL: `${gw.url}/v1`, apiKey: "sk-client" });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([native.stop(), compat.stop()]);
  });

  it("generateText on a native Anthropic target", async () => {
    const result = await generateText({ model: anthropic("claude"), prompt: "Hello", maxRetries: 0 });
    expect(result.text).toBe(answer(9));
    expect(result.usage.outputTokens).toBe(9);
    expect(result.finishReason).toBe("stop");
    expect(native.messages.at(-1)!.headers["x-api-key"]).toBe("sk-ant-upstream-secret-3");
  });

  it("streamText on a native Anthropic target", async () => {
    const result = streamText({ model: anthropic("claude"), prompt: "Hello", maxRetries: 0 });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(answer(9));
    expect((await result.usage).outputTokens).toBe(9);
  });

  it("generateText and streamText translated to an OpenAI-compatible target", async () => {
    const result = await generateText({ model: anthropic("gpt"), system: "Be brief.", prompt: "Hello", maxRetries: 0 });
    expect(result.text).toBe(answer(5));
    expect(result.usage.outputTokens).toBe(5);
    expect(JSON.parse(compat.completions.at(-1)!.body).messages[0]).toEqual({ role: "system", content: "Be brief." });
    const streamed = streamText({ model: anthropic("gpt"), prompt: "Hello", maxRetries: 0 });
    let text = "";
    for await (const delta of streamed.textStream) text += delta;
    expect(text.trimEnd()).toBe(answer(5));
    expect((await streamed.usage).outputTokens).toBe(5);
  });

  it("calls a tool on the built-in mock Claude (forced tool choice)", async () => {
    const result = await generateText({
      model: anthropic("builtin-claude"),
      prompt: "Weather in Paris?",
      tools: { get_weather: tool({ description: "Weather for a city", inputSchema: jsonSchema<{ query: string }>({ type: "object", properties: { query: { type: "string" } } }) }) },
      toolChoice: { type: "tool", toolName: "get_weather" },
      maxRetries: 0,
    });
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]).toMatchObject({ toolName: "get_weather", input: { query: "mock" } });
    expect(result.finishReason).toBe("tool-calls");
  });
});
