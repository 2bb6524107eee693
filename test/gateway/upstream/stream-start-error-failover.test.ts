/**
 * Failover before the first byte covers a 200 stream that opens with an error event: Anthropic's
 * `event: error` (overloaded_error, after message_start in the same read), an OpenAI-compatible
 * server's `data: {"error":…}`. Nothing reached the client, so the fallback model answers; before,
 * the client got the 200 and an error in the stream (no failover). An error about the request
 * itself (invalid_request_error) is the client's: relayed, not failed over. Real SDKs, real servers.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const sse = (event: string | null, data: unknown) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
const MESSAGE_START = sse("message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude-x", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } });
const anthropicError = (type: string, message: string) => sse("error", { type: "error", error: { type, message } });

describe("a 200 stream that opens with an error event", () => {
  let overloadedClaude: MockAnthropic;
  let invalidClaude: MockAnthropic;
  let healthyClaude: MockAnthropic;
  let erroringCompat: MockUpstream;
  let healthyCompat: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    // One write: message_start and the error arrive in the gateway's first read.
    overloadedClaude = await MockAnthropic.start({ kind: "events", events: [MESSAGE_START + anthropicError("overloaded_error", "Overloaded")] });
    invalidClaude = await MockAnthropic.start({ kind: "events", events: [anthropicError("invalid_request_error", "prompt is too long: 300000 tokens > 200000 maximum")] });
    healthyClaude = await MockAnthropic.start({ kind: "ok", tokens: 6 });
    erroringCompat = await MockUpstream.start("erroring", { kind: "sse", chunks: [sse(null, { error: { message: "The server had an error while processing your request.", type: "server_error", code: null } })] });
    healthyCompat = await MockUpstream.start("healthy", { kind: "ok", tokens: 6 });
    gw = await startTestGateway({
      passiveHealth: { failures: 100 },
      models: [
        { name: "claude", fallbacks: ["claude-backup"], targets: [{ name: "overloaded", baseUrl: overloadedClaude.baseUrl, provider: "anthropic" }] },
        { name: "claude-backup", targets: [{ name: "healthy-claude", baseUrl: healthyClaude.baseUrl, provider: "anthropic" }] },
        { name: "claude-invalid", fallbacks: ["claude-backup"], targets: [{ name: "invalid", baseUrl: invalidClaude.baseUrl, provider: "anthropic" }] },
        { name: "gpt", fallbacks: ["gpt-backup"], targets: [{ name: "erroring", baseUrl: erroringCompat.baseUrl }] },
        { name: "gpt-backup", targets: [{ name: "healthy-compat", baseUrl: healthyCompat.baseUrl }] },
      ],
    });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([overloadedClaude?.stop(), invalidClaude?.stop(), healthyClaude?.stop(), erroringCompat?.stop(), healthyCompat?.stop()]);
  });

  const anthropic = () => new Anthropic({ baseURL: gw.url, apiKey: "sk-any", maxRetries: 0 });
  const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-any", maxRetries: 0 });

  it("fails an Anthropic overloaded_error over to the fallback (Anthropic SDK, passed through)", async () => {
    const before = overloadedClaude.messages.length;
    const backupBefore = healthyClaude.messages.length;
    const stream = anthropic().messages.stream({ model: "claude", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    const message = await stream.finalMessage();
    expect(message.content[0]).toMatchObject({ type: "text" });
    expect((message.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(0);
    expect(overloadedClaude.messages.length).toBe(before + 1);
    expect(healthyClaude.messages.length).toBe(backupBefore + 1);
  });

  it("fails it over when an openai SDK client reaches the Anthropic target through the translation", async () => {
    const chunks: string[] = [];
    const stream = await openai().chat.completions.create({ model: "claude", max_tokens: 16, stream: true, messages: [{ role: "user", content: "hi" }] });
    for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta?.content ?? "");
    expect(chunks.join("").length).toBeGreaterThan(0);
  });

  it("fails an OpenAI-compatible server_error event over to the fallback (openai SDK)", async () => {
    const before = healthyCompat.requests.length;
    const chunks: string[] = [];
    const stream = await openai().chat.completions.create({ model: "gpt", stream: true, messages: [{ role: "user", content: "hi" }] });
    for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta?.content ?? "");
    expect(chunks.join("").length).toBeGreaterThan(0);
    expect(healthyCompat.requests.length).toBe(before + 1);
  });

  it("relays an error about the request itself to the client, without trying the fallback", async () => {
    const backupCalls = healthyClaude.messages.length;
    const stream = anthropic().messages.stream({ model: "claude-invalid", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    const failure = await stream.finalMessage().then(() => null, (err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toContain("prompt is too long");
    expect(healthyClaude.messages.length).toBe(backupCalls);
  });
});
