import { GatewayError } from "../../../../gateway/src/errors";
import { normaliseInput, referencedIds } from "../../../../gateway/src/dialects/openai-responses/input-items";
import { responsesToChatRequest } from "../../../../gateway/src/dialects/openai-responses/request-to-chat";
import { newResponseId, responseIdOfItem } from "../../../../gateway/src/dialects/openai-responses/ids";

const RID = newResponseId();

function translate(body: Record<string, unknown>, history: Record<string, unknown>[] = []) {
  return responsesToChatRequest(body, [...history, ...normaliseInput(body.input, RID)], "upstream-model");
}

function badRequest(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    return err as GatewayError;
  }
  throw new Error("expected a 400");
}

describe("Responses request → Chat Completions request", () => {
  test("instructions and a string input become a system and a user message; the model is the target's", () => {
    const chat = translate({ model: "m", instructions: "Be brief.", input: "Hi" });
    expect(chat).toEqual({ model: "upstream-model", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }] });
  });

  test("item-list input: roles, text parts joined, developer as system, images as image_url parts", () => {
    const chat = translate({
      model: "m",
      input: [
        { role: "developer", content: "Rules." },
        { type: "message", role: "user", content: [{ type: "input_text", text: "Look:" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" }] },
        { role: "assistant", content: [{ type: "output_text", text: "A dot." }] },
        { role: "user", content: [{ type: "input_text", text: "a" }, { type: "input_text", text: "b" }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: "system", content: "Rules." },
      { role: "user", content: [{ type: "text", text: "Look:" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } }] },
      { role: "assistant", content: "A dot." },
      { role: "user", content: "a\nb" },
    ]);
  });

  test("function calls join one assistant message with tool_calls; outputs become tool messages", () => {
    const chat = translate({
      model: "m",
      input: [
        { role: "user", content: "Weather in Paris and Rome?" },
        { type: "function_call", call_id: "call_1", name: "weather", arguments: '{"city":"Paris"}' },
        { type: "function_call", call_id: "call_2", name: "weather", arguments: '{"city":"Rome"}' },
        { type: "function_call_output", call_id: "call_1", output: "18C" },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "21C" }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "18C" },
      { role: "tool", tool_call_id: "call_2", content: "21C" },
    ]);
  });

  test("an assistant message followed by its function call is one Chat message; reasoning items are dropped", () => {
    const chat = translate({
      model: "m",
      input: [
        { role: "user", content: "go" },
        { type: "reasoning", id: "rs_1", summary: [] },
        { role: "assistant", content: "Let me look." },
        { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
      ],
    });
    expect(chat.messages).toEqual([
      { role: "user", content: "go" },
      { role: "assistant", content: "Let me look.", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] },
    ]);
  });

  test("earlier turns from the store come first", () => {
    const history = normaliseInput("first question", newResponseId()).concat([{ type: "message", id: "msg_x", role: "assistant", status: "completed", content: [{ type: "output_text", text: "first answer", annotations: [] }] }]);
    const chat = translate({ model: "m", input: "second question" }, history);
    expect((chat.messages as unknown[]).map((m) => (m as { content: unknown }).content)).toEqual(["first question", "first answer", "second question"]);
  });

  test("tools, tool_choice, text.format, max_output_tokens, sampling, reasoning effort, stream", () => {
    const chat = translate({
      model: "m",
      input: "x",
      tools: [{ type: "function", name: "f", description: "d", parameters: { type: "object", properties: {} }, strict: true }],
      tool_choice: { type: "function", name: "f" },
      parallel_tool_calls: false,
      text: { format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true } },
      max_output_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: "low" },
      stream: true,
      store: true,
      metadata: { a: "b" },
    });
    expect(chat).toEqual({
      model: "upstream-model",
      messages: [{ role: "user", content: "x" }],
      tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object", properties: {} }, strict: true } }],
      tool_choice: { type: "function", function: { name: "f" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "out", schema: { type: "object" }, strict: true } },
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: "low",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test("allowed_tools narrows the tool list", () => {
    const chat = translate({
      model: "m",
      input: "x",
      tools: [{ type: "function", name: "a" }, { type: "function", name: "b" }],
      tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "b" }] },
    });
    expect(chat.tools).toEqual([{ type: "function", function: { name: "b" } }]);
    expect(chat.tool_choice).toBe("required");
  });

  test("what Chat cannot carry is a 400 naming the field", () => {
    expect(badRequest(() => translate({ model: "m", input: "x", tools: [{ type: "web_search" }] })).param).toBe("tools[0].type");
    expect(badRequest(() => translate({ model: "m", input: "x", background: true })).param).toBe("background");
    expect(badRequest(() => translate({ model: "m", input: [{ type: "computer_call_output", call_id: "c" }] })).param).toBe("input[0].type");
    expect(badRequest(() => translate({ model: "m", input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] })).param).toBe("input[0].content[0]");
    expect(badRequest(() => translate({ model: "m", input: [{ role: "wizard", content: "x" }] })).param).toBe("input[0].role");
    expect(badRequest(() => translate({ model: "m", input: [{ type: "function_call", name: "f", arguments: "{}" }] })).param).toBe("input[0].call_id");
    expect(badRequest(() => translate({ model: "m", input: 42 })).param).toBe("input");
    expect(badRequest(() => translate({ model: "m" })).param).toBe("input");
    expect(badRequest(() => translate({ model: "m", input: [{ type: "item_reference", id: "msg_unknown" }] })).message).toContain("msg_unknown");
  });

  test("input items get ids derived from the response id, so references find their response", () => {
    const items = normaliseInput([{ role: "user", content: "a" }, { type: "function_call_output", call_id: "c", output: "o" }, { type: "item_reference", id: "msg_1" }], RID);
    expect(items.map((i) => i.id)).toEqual([expect.stringMatching(/^msg_[0-9a-f]{32}_in0$/), expect.stringMatching(/^fco_[0-9a-f]{32}_in1$/), "msg_1"]);
    expect(responseIdOfItem(items[0].id as string)).toBe(RID);
    expect(referencedIds(items)).toEqual(["msg_1"]);
  });
});
