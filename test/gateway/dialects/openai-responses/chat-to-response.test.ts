import { chatCompletionToResponse } from "../../../../gateway/src/dialects/openai-responses/chat-to-response";
import { ChatStreamToResponses } from "../../../../gateway/src/dialects/openai-responses/chat-stream-to-events";
import { newResponseId } from "../../../../gateway/src/dialects/openai-responses/ids";
import { usageFromChat, usageFromResponses } from "../../../../gateway/src/dialects/openai-responses/usage";
import { SseDataReader } from "../../../../gateway/src/stream/sse-data-reader";

const ctx = (request: Record<string, unknown> = {}) => ({ id: newResponseId(), createdAt: 1_700_000_000, model: "client-model", request: { model: "client-model", ...request } });

function events(lines: string[]): { type: string; data: Record<string, any> }[] {
  const reader = new SseDataReader();
  return lines.flatMap((l) => reader.push(Buffer.from(l))).map((m) => ({ type: m.event!, data: JSON.parse(m.data) }));
}

describe("Chat completion → Responses object", () => {
  test("text answer with usage details; settings echoed", () => {
    const c = ctx({ instructions: "Be brief.", temperature: 0.5, max_output_tokens: 50 });
    const out = chatCompletionToResponse(
      {
        id: "chatcmpl-1",
        choices: [{ index: 0, message: { role: "assistant", content: "Hello there" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 2 } },
      },
      c,
    )!;
    expect(out.usage).toEqual({ promptTokens: 20, completionTokens: 5, cachedPromptTokens: 8, reasoningTokens: 2 });
    expect(out.response).toMatchObject({
      id: c.id,
      object: "response",
      status: "completed",
      model: "client-model",
      instructions: "Be brief.",
      temperature: 0.5,
      max_output_tokens: 50,
      output: [{ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello there", annotations: [] }] }],
      usage: { input_tokens: 20, input_tokens_details: { cached_tokens: 8 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 25 },
    });
    expect((out.response.output as { id: string }[])[0].id).toMatch(new RegExp(`^msg_${c.id.slice(5)}_0$`));
  });

  test("reasoning, text and tool calls become items in order; length makes it incomplete", () => {
    const out = chatCompletionToResponse(
      {
        choices: [{ message: { role: "assistant", reasoning_content: "thinking", content: "calling", tool_calls: [{ id: "call_9", type: "function", function: { name: "f", arguments: '{"a":1}' } }] }, finish_reason: "length" }],
        usage: { prompt_tokens: 1, completion_tokens: 2 },
      },
      ctx(),
    )!;
    expect(out.response.status).toBe("incomplete");
    expect(out.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect((out.response.output as { type: string }[]).map((i) => i.type)).toEqual(["reasoning", "message", "function_call"]);
    expect((out.response.output as Record<string, unknown>[])[2]).toMatchObject({ call_id: "call_9", name: "f", arguments: '{"a":1}', status: "completed" });
  });

  test("no choice: null (the caller treats it as an unusable answer)", () => {
    expect(chatCompletionToResponse({ choices: [] }, ctx())).toBeNull();
  });

  test("usage readers validate counts and cap details", () => {
    expect(usageFromChat({ prompt_tokens: -1, completion_tokens: 2 })).toBeNull();
    expect(usageFromChat({ prompt_tokens: 10, completion_tokens: 2, prompt_cache_hit_tokens: 4 })).toEqual({ promptTokens: 10, completionTokens: 2, cachedPromptTokens: 4 });
    expect(usageFromResponses({ input_tokens: 5, output_tokens: "7" })).toBeNull();
    expect(usageFromResponses({ input_tokens: 5, output_tokens: 7, input_tokens_details: { cached_tokens: 99 } })).toEqual({ promptTokens: 5, completionTokens: 7, cachedPromptTokens: 5 });
  });
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ id: "c", choices: [{ index: 0, delta, finish_reason: finish }] });

describe("Chat stream → Responses events", () => {
  test("text stream: the typed events in order, sequence numbers, completed with usage", () => {
    const c = ctx();
    const sm = new ChatStreamToResponses(c);
    const out = [
      ...sm.start(),
      ...sm.chunk(chunk({ role: "assistant", content: "" })),
      ...sm.chunk(chunk({ content: "Hel" })),
      ...sm.chunk(chunk({ content: "lo" })),
      ...sm.chunk(chunk({}, "stop")),
      ...sm.chunk({ id: "c", choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }),
      ...sm.finish(),
    ];
    const evs = events(out);
    expect(evs.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(evs.map((e) => e.data.sequence_number)).toEqual(evs.map((_, i) => i));
    expect(evs.every((e) => e.data.type === e.type)).toBe(true);
    expect(evs[6].data).toMatchObject({ text: "Hello", output_index: 0, content_index: 0 });
    const done = evs[9].data.response;
    expect(done).toMatchObject({ id: c.id, status: "completed", output: [{ type: "message", content: [{ type: "output_text", text: "Hello" }] }], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } });
    expect(sm.usage).toEqual({ promptTokens: 3, completionTokens: 2 });
    expect(sm.finish()).toEqual([]);
  });

  test("tool calls: arguments stream as deltas, name known before added; parallel calls keep their indexes", () => {
    const sm = new ChatStreamToResponses(ctx());
    const out = [
      ...sm.start(),
      ...sm.chunk(chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "weather", arguments: "" } }] })),
      ...sm.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })),
      ...sm.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })),
      ...sm.chunk(chunk({ tool_calls: [{ index: 1, id: "call_b", function: { name: "time", arguments: "{}" } }] })),
      ...sm.chunk(chunk({}, "tool_calls")),
      ...sm.finish(),
    ];
    const evs = events(out);
    const added = evs.filter((e) => e.type === "response.output_item.added").map((e) => e.data.item);
    expect(added).toEqual([
      expect.objectContaining({ type: "function_call", call_id: "call_a", name: "weather", arguments: "", status: "in_progress" }),
      expect.objectContaining({ type: "function_call", call_id: "call_b", name: "time" }),
    ]);
    expect(evs.filter((e) => e.type === "response.function_call_arguments.delta").map((e) => e.data.delta)).toEqual(['{"city":', '"Paris"}', "{}"]);
    expect(evs.filter((e) => e.type === "response.function_call_arguments.done").map((e) => [e.data.output_index, e.data.arguments])).toEqual([[0, '{"city":"Paris"}'], [1, "{}"]]);
    expect(evs[evs.length - 1].data.response.output.map((i: { call_id: string }) => i.call_id)).toEqual(["call_a", "call_b"]);
  });

  test("reasoning then text: the reasoning item closes when the text starts", () => {
    const sm = new ChatStreamToResponses(ctx());
    const evs = events([...sm.start(), ...sm.chunk(chunk({ reasoning_content: "hmm" })), ...sm.chunk(chunk({ content: "ok" })), ...sm.finish()]);
    const types = evs.map((e) => e.type);
    expect(types.indexOf("response.reasoning_text.done")).toBeLessThan(types.indexOf("response.output_text.delta"));
    expect(evs[evs.length - 1].data.response.output.map((i: { type: string }) => i.type)).toEqual(["reasoning", "message"]);
  });

  test("finish_reason length: response.incomplete", () => {
    const sm = new ChatStreamToResponses(ctx());
    const evs = events([...sm.start(), ...sm.chunk(chunk({ content: "a" }, "length")), ...sm.finish()]);
    expect(evs[evs.length - 1]).toMatchObject({ type: "response.incomplete", data: { response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } } } });
  });

  test("a broken stream ends with response.failed (partial output kept) and an error event", () => {
    const sm = new ChatStreamToResponses(ctx());
    const evs = events([...sm.start(), ...sm.chunk(chunk({ content: "par" })), ...sm.fail("upstream_stream_interrupted", "The upstream stream was interrupted.")]);
    const [failed, error] = evs.slice(-2);
    expect(failed.type).toBe("response.failed");
    expect(failed.data.response).toMatchObject({ status: "failed", error: { code: "upstream_stream_interrupted" }, output: [{ type: "message", status: "incomplete", content: [{ text: "par" }] }] });
    expect(error).toMatchObject({ type: "error", data: { code: "upstream_stream_interrupted", message: "The upstream stream was interrupted.", error: { type: "server_error" } } });
    expect(sm.done).toBe(true);
    expect(sm.finish()).toEqual([]);
  });

  test("an upstream error chunk mid-stream fails the response", () => {
    const sm = new ChatStreamToResponses(ctx());
    sm.start();
    const evs = events(sm.chunk({ error: { message: "overloaded" } }));
    expect(evs.map((e) => e.type)).toEqual(["response.failed", "error"]);
    expect(evs[1].data.message).toBe("overloaded");
  });
});

describe("SseDataReader", () => {
  test("events split anywhere, CRLF, comments, and an unterminated last event", () => {
    const reader = new SseDataReader();
    const text = ": keep-alive\r\n\r\nevent: a\r\ndata: {\"x\":1}\r\n\r\ndata: one\ndata: two\n\ndata: tail";
    const got = [];
    for (let i = 0; i < text.length; i += 3) got.push(...reader.push(Buffer.from(text.slice(i, i + 3))));
    got.push(...reader.flush());
    expect(got).toEqual([{ event: "a", data: '{"x":1}' }, { event: null, data: "one\ntwo" }, { event: null, data: "tail" }]);
  });
});
