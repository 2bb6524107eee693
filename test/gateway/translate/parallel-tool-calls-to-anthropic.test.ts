/**
 * Parallel tool calls from an OpenAI-compatible upstream, streamed to Anthropic clients. Some
 * upstreams interleave the calls' argument deltas (call 0 starts, call 1 starts, then arguments
 * for 0, then for 1). The translation stopped call 0's block when call 1 started, then sent call
 * 0's arguments to a stopped block: the Vercel AI SDK's Anthropic provider reported the first call
 * with `input: {}`. Tool blocks now stay open together until text, thinking or the end, and every
 * block is stopped exactly once, after its last delta.
 */
import Anthropic from "@anthropic-ai/sdk";
import { createAnthropic } from "@ai-sdk/anthropic";
import { jsonSchema, streamText, tool } from "ai";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null) => sse({ id: "chatcmpl-x", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] });
const start = (index: number, id: string) => chunk({ tool_calls: [{ index, id, type: "function", function: { name: "lookup", arguments: "" } }] });
const args = (index: number, text: string) => chunk({ tool_calls: [{ index, function: { arguments: text } }] });

const INTERLEAVED = [chunk({ role: "assistant", content: "Looking up." }), start(0, "call_a"), start(1, "call_b"), args(0, '{"x":'), args(1, '{"x":2}'), args(0, "1}"), chunk({}, "tool_calls"), "data: [DONE]\n\n"];

describe("parallel tool calls to Anthropic clients", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await MockUpstream.start("compat", { kind: "sse", chunks: INTERLEAVED });
    gw = await startTestGateway({ models: [{ name: "gpt", targets: [{ name: "compat", baseUrl: upstream.baseUrl }] }] });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  it("keeps every call's arguments for the AI SDK's Anthropic provider", async () => {
    const anthropic = createAnthropic({ baseURL: `${gw.url}/v1`, apiKey: "unused" });
    const result = streamText({ model: anthropic("gpt"), prompt: "hi", tools: { lookup: tool({ inputSchema: jsonSchema<{ x: number }>({ type: "object", properties: { x: { type: "number" } } }) }) } });
    const calls: { toolCallId: string; input: unknown }[] = [];
    for await (const part of result.fullStream) if (part.type === "tool-call") calls.push({ toolCallId: part.toolCallId, input: part.input });
    expect(calls).toEqual([
      { toolCallId: "call_a", input: { x: 1 } },
      { toolCallId: "call_b", input: { x: 2 } },
    ]);
  });

  it("sends a well-formed event stream: each block stopped once, after its last delta", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const stream = client.messages.stream({ model: "gpt", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    const started = new Set<number>();
    const stopped = new Set<number>();
    stream.on("streamEvent", (event) => {
      if (event.type === "content_block_start") started.add(event.index);
      if (event.type === "content_block_delta") expect(stopped.has(event.index)).toBe(false);
      if (event.type === "content_block_stop") {
        expect(stopped.has(event.index)).toBe(false);
        stopped.add(event.index);
      }
    });
    const message = await stream.finalMessage();
    expect([...stopped].sort()).toEqual([...started].sort());
    expect(message.content).toEqual([
      { type: "text", text: "Looking up." },
      { type: "tool_use", id: "call_a", name: "lookup", input: { x: 1 } },
      { type: "tool_use", id: "call_b", name: "lookup", input: { x: 2 } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
  });
});
