/** The pure pieces of the Anthropic ⇄ OpenAI translation, without sockets. */
import { anthropicErrorToOpenai, openaiErrorToAnthropic } from "../../../gateway/src/dialects/anthropic/errors";
import { mockAnthropicStreamEvents } from "../../../gateway/src/dialects/anthropic/mock";
import { usageFromAnthropic } from "../../../gateway/src/dialects/anthropic/usage";
import { checkMessagesRequest } from "../../../gateway/src/dialects/anthropic/validate";
import { countAnthropicPromptTokens } from "../../../gateway/src/dialects/anthropic/estimate";
import { SseReader } from "../../../gateway/src/stream/sse-reader";
import { anthropicRequestToOpenai, openaiRequestToAnthropic } from "../../../gateway/src/translate/anthropic-openai/request";
import { OpenaiStreamToAnthropic } from "../../../gateway/src/translate/anthropic-openai/stream-to-anthropic";
import { AnthropicStreamToOpenai } from "../../../gateway/src/translate/anthropic-openai/stream-to-openai";
import { mockChatStreamEvents, mockPromptTokens } from "../../../gateway/src/upstream/mock-responses";

/** Feeds `bytes` to a converter in pieces of `size` bytes; returns everything it wrote. */
function pieces(bytes: Buffer, size: number, convert: (events: ReturnType<SseReader["push"]>) => string, end: () => string): string {
  const reader = new SseReader();
  let out = "";
  for (let i = 0; i < bytes.length; i += size) out += convert(reader.push(bytes.subarray(i, i + size)));
  return out + convert(reader.flush()) + end();
}

describe("SseReader", () => {
  it("reads the same events whatever the chunking, multi-byte characters and CRLF included", () => {
    const text = 'event: a\r\ndata: {"t":"héllo ✓"}\r\n\r\ndata: line1\ndata: line2\n\n: comment\n\ndata: last';
    const whole = new SseReader();
    const expected = [...whole.push(Buffer.from(text)), ...whole.flush()];
    expect(expected).toEqual([{ event: "a", data: '{"t":"héllo ✓"}' }, { event: null, data: "line1\nline2" }, { event: null, data: "last" }]);
    const bytes = Buffer.from(text);
    for (const size of [1, 2, 3, 7]) {
      const reader = new SseReader();
      const events = [];
      for (let i = 0; i < bytes.length; i += size) events.push(...reader.push(bytes.subarray(i, i + size)));
      events.push(...reader.flush());
      expect(events).toEqual(expected);
    }
  });
});

describe("stream translation", () => {
  it("turns a chat stream into Anthropic events identically at any chunking", () => {
    const upstream = Buffer.from(mockChatStreamEvents({ model: "m", messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } }, 4).join(""));
    const run = (size: number) => {
      const converter = new OpenaiStreamToAnthropic("claude-x");
      return { out: pieces(upstream, size, (e) => converter.push(e), () => converter.end()), usage: converter.usage };
    };
    const whole = run(upstream.length);
    expect(run(1)).toEqual(whole);
    expect(run(13)).toEqual(whole);
    const events = whole.out.split("\n\n").filter(Boolean).map((e) => e.split("\n")[0].slice(7));
    expect(events).toEqual(["message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    const prompt = mockPromptTokens({ messages: [{ role: "user", content: "hi" }] });
    expect(whole.usage).toEqual({ promptTokens: prompt, completionTokens: 4 });
    expect(whole.out).toContain(`"usage":{"input_tokens":${prompt},"output_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}`);
  });

  it("turns reasoning_content into a thinking block before the text, and cached prompt tokens into cache reads", () => {
    const chunk = (delta: unknown, extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id: "c", choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
    const upstream = [
      chunk({ role: "assistant", reasoning_content: "Let me think" }),
      chunk({ reasoning_content: " more." }),
      chunk({ content: "Answer." }),
      `data: ${JSON.stringify({ id: "c", choices: [{ index: 0, delta: {}, finish_reason: "length" }] })}\n\n`,
      `data: ${JSON.stringify({ id: "c", choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 } } })}\n\n`,
      "data: [DONE]\n\n",
    ].join("");
    const converter = new OpenaiStreamToAnthropic("m");
    const out = pieces(Buffer.from(upstream), 5, (e) => converter.push(e), () => converter.end());
    expect(out).toContain('"content_block":{"type":"thinking","thinking":"","signature":""}');
    expect(out).toContain('"delta":{"type":"thinking_delta","thinking":" more."}');
    expect(out.indexOf('"type":"text_delta"')).toBeGreaterThan(out.indexOf("thinking_delta"));
    expect(out).toContain('"stop_reason":"max_tokens"');
    expect(out).toContain('"usage":{"input_tokens":40,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":60}');
  });

  it("turns Anthropic events into chat chunks identically at any chunking, the usage chunk only when asked", () => {
    const upstream = Buffer.from(mockAnthropicStreamEvents({ model: "m", messages: [{ role: "user", content: "hi" }], thinking: { type: "enabled", budget_tokens: 1024 } }, 3).join(""));
    const run = (size: number, includeUsage: boolean) => {
      const converter = new AnthropicStreamToOpenai("claude-x", includeUsage);
      return { out: pieces(upstream, size, (e) => converter.push(e), () => converter.end()), usage: converter.usage };
    };
    const whole = run(upstream.length, true);
    expect(run(1, true)).toEqual(whole);
    const chunks = whole.out.split("\n\n").filter(Boolean).map((e) => e.slice(6));
    expect(chunks.at(-1)).toBe("[DONE]");
    const parsed = chunks.slice(0, -1).map((c) => JSON.parse(c));
    expect(parsed[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(parsed.some((c) => typeof c.choices[0]?.delta?.reasoning_content === "string")).toBe(true);
    expect(parsed.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("The gateway answered");
    expect(parsed.at(-2).choices[0].finish_reason).toBe("stop");
    expect(parsed.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
    expect(run(upstream.length, false).out).not.toContain('"usage"');
  });

  it("turns an Anthropic error event into the OpenAI-style error event", () => {
    const converter = new AnthropicStreamToOpenai("m", false);
    const out = converter.push([{ event: "error", data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' }]);
    expect(JSON.parse(out.slice(6))).toEqual({ error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded_error" } });
  });
});

describe("usage and errors", () => {
  it("counts cache reads and writes in the prompt and refuses invalid counts", () => {
    expect(usageFromAnthropic({ input_tokens: 3, output_tokens: 4, cache_creation_input_tokens: 10, cache_read_input_tokens: 20 })).toEqual({ promptTokens: 33, completionTokens: 4, cachedPromptTokens: 20, cacheWriteTokens: 10 });
    expect(usageFromAnthropic({ input_tokens: 3, output_tokens: -1 })).toBeNull();
    expect(usageFromAnthropic({ input_tokens: "3", output_tokens: 1 })).toBeNull();
    expect(usageFromAnthropic(null)).toBeNull();
  });

  it("maps error bodies both ways, keeping the message", () => {
    expect(JSON.parse(openaiErrorToAnthropic(429, Buffer.from('{"error":{"message":"slow down","type":"rate_limit_error"}}')).toString())).toEqual({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
    expect(JSON.parse(anthropicErrorToOpenai(401, Buffer.from('{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}')).toString())).toEqual({ error: { message: "invalid x-api-key", type: "authentication_error", param: null, code: "authentication_error" } });
    expect(JSON.parse(anthropicErrorToOpenai(400, Buffer.from("{}")).toString()).error.message).toMatch(/status 400/);
  });
});

describe("request translation", () => {
  it("merges consecutive tool results into one user turn and sends data: URLs as base64 images", () => {
    const out = openaiRequestToAnthropic(
      {
        model: "x",
        messages: [
          { role: "developer", content: "Rules." },
          { role: "user", content: [{ type: "text", text: "Look" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] },
          { role: "assistant", content: null, tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: "{}" } }, { id: "b", type: "function", function: { name: "g", arguments: "not json" } }] },
          { role: "tool", tool_call_id: "a", content: "1" },
          { role: "tool", tool_call_id: "b", content: "2" },
        ],
      },
      "claude-up",
      false,
    );
    expect(out.system).toBe("Rules.");
    expect(out.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Look" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } }] },
      { role: "assistant", content: [{ type: "tool_use", id: "a", name: "f", input: {} }, { type: "tool_use", id: "b", name: "g", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "a", content: "1" }, { type: "tool_result", tool_use_id: "b", content: "2" }] },
    ]);
  });

  it("refuses Anthropic server tools towards an OpenAI-compatible target, and drops thinking", () => {
    expect(() => anthropicRequestToOpenai({ model: "m", max_tokens: 5, messages: [], tools: [{ type: "web_search_20250305", name: "web_search" }] }, "m", false)).toThrow(/only available on Anthropic targets/);
    const out = anthropicRequestToOpenai({ model: "m", max_tokens: 5, thinking: { type: "enabled", budget_tokens: 2000 }, top_k: 5, messages: [{ role: "assistant", content: [{ type: "thinking", thinking: "hm", signature: "s" }, { type: "text", text: "Hi" }] }] }, "m", false);
    expect(out).toEqual({ model: "m", max_tokens: 5, messages: [{ role: "assistant", content: "Hi" }] });
  });

  it("validates /v1/messages bodies with Anthropic's field paths", () => {
    expect(() => checkMessagesRequest({ model: "m", messages: [] })).toThrow("max_tokens: Field required");
    expect(() => checkMessagesRequest({ model: "m", max_tokens: 5 })).toThrow("messages: Field required");
    expect(() => checkMessagesRequest({ model: "m", max_tokens: 5, messages: [{ role: "user", content: [{ type: "text" }] }] })).toThrow("messages.0.content.0.text: Field required");
    expect(() => checkMessagesRequest({ model: "m", max_tokens: 5, temperature: 1.5, messages: [{ role: "user", content: "x" }] })).toThrow(/temperature/);
    expect(() => checkMessagesRequest({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] })).not.toThrow();
  });

  it("estimates a prompt from system, texts, tool use and results", () => {
    const small = countAnthropicPromptTokens({ messages: [{ role: "user", content: "hi" }] });
    const big = countAnthropicPromptTokens({ system: "You are a very careful assistant.", messages: [{ role: "user", content: "hi" }, { role: "assistant", content: [{ type: "tool_use", id: "t", name: "lookup", input: { q: "a long query about many things" } }] }, { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "a long result with many words in it" }] }] });
    expect(small).toBeGreaterThan(0);
    expect(big).toBeGreaterThan(small + 20);
  });
});
