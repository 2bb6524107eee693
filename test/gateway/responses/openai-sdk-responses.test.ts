/**
 * The official `openai` SDK's Responses API against the gateway: translated to a Chat-only
 * upstream (a real HTTP mock) and passed through to a native one, non-streaming and streaming,
 * tools, previous_response_id, and the stored-response endpoints.
 */
import OpenAI from "openai";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

const WEATHER_TOOL = { type: "function" as const, name: "weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }, strict: true };

/** A Chat completion that calls the weather tool, as a Chat-only upstream answers. */
const TOOL_CALL = JSON.stringify({
  id: "chatcmpl-tool",
  object: "chat.completion",
  created: 1,
  model: "chat-model",
  choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: "call_w1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] }, finish_reason: "tool_calls" }],
  usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37, prompt_tokens_details: { cached_tokens: 10 } },
});

describe("openai SDK: responses", () => {
  let chatUp: MockUpstream;
  let nativeUp: MockUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  const answer = (n: number) => Array.from({ length: n }, (_, i) => mockToken(i)).join("");

  beforeAll(async () => {
    chatUp = await MockUpstream.start("chat", (req) => (req.body.includes('"tools"') && !req.body.includes('"role":"tool"') ? { kind: "status", status: 200, body: TOOL_CALL } : { kind: "ok", tokens: 6 }));
    nativeUp = await MockUpstream.start("native", { kind: "ok", tokens: 4 });
    gw = await startTestGateway({
      models: [
        { name: "chat-model", targets: [{ name: "chat", baseUrl: chatUp.baseUrl, apiKey: "sk-chat-upstream", model: "upstream-chat" }] },
        { name: "native-model", targets: [{ name: "native", baseUrl: nativeUp.baseUrl, apiKey: "sk-native-upstream", responsesApi: "native" }] },
      ],
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([chatUp.stop(), nativeUp.stop()]);
  });

  it("creates a response from a Chat-only target: Chat request upstream, Responses object back", async () => {
    const response = await client.responses.create({ model: "chat-model", instructions: "Be brief.", input: "Hello", max_output_tokens: 64, temperature: 0.3 });
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe(answer(6).trimEnd());
    expect(response.usage).toMatchObject({ output_tokens: 6, total_tokens: response.usage!.input_tokens + 6 });
    const sent = chatUp.completions.at(-1)!;
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.headers.authorization).toBe("Bearer sk-chat-upstream");
    expect(JSON.parse(sent.body)).toEqual({ model: "upstream-chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }], max_tokens: 64, temperature: 0.3 });
  });

  it("streams the typed event stream, ending with response.completed and its usage", async () => {
    const stream = await client.responses.create({ model: "chat-model", input: "Hello", stream: true });
    const types: string[] = [];
    let text = "";
    let completed: OpenAI.Responses.Response | null = null;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(text).toBe(answer(6));
    expect(completed!.usage).toMatchObject({ output_tokens: 6 });
    // The gateway asked the Chat upstream for usage in the stream.
    expect(JSON.parse(chatUp.completions.at(-1)!.body).stream_options).toEqual({ include_usage: true });
  });

  it("the stream helper's final response carries the whole text", async () => {
    const stream = client.responses.stream({ model: "chat-model", input: "Hello" });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(answer(6));
  });

  it("tools: a function call comes back, its output continues the conversation with previous_response_id", async () => {
    const first = await client.responses.create({ model: "chat-model", input: "Weather in Paris?", tools: [WEATHER_TOOL] });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", call_id: "call_w1", name: "weather", arguments: '{"city":"Paris"}', status: "completed" });
    expect(first.usage).toMatchObject({ input_tokens: 30, input_tokens_details: { cached_tokens: 10 }, output_tokens: 7 });
    const toolsSent = JSON.parse(chatUp.completions.at(-1)!.body).tools;
    expect(toolsSent).toEqual([{ type: "function", function: { name: "weather", description: "Weather in a city", parameters: WEATHER_TOOL.parameters, strict: true } }]);

    const second = await client.responses.create({
      model: "chat-model",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: "call_w1", output: "18C and sunny" }],
      tools: [WEATHER_TOOL],
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toBe(answer(6).trimEnd());
    expect(JSON.parse(chatUp.completions.at(-1)!.body).messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_w1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_w1", content: "18C and sunny" },
    ]);
  });

  it("streams a tool call as function_call_arguments deltas", async () => {
    const stream = await client.responses.create({ model: "native-model", input: "Weather?", tools: [WEATHER_TOOL], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const added = events.find((e) => e.type === "response.output_item.added");
    expect(added).toMatchObject({ item: { type: "function_call", name: "weather" } });
    expect(events.find((e) => e.type === "response.function_call_arguments.done")).toMatchObject({ arguments: "{}" });
  });

  it("multi-turn with previous_response_id: the Chat upstream receives the whole conversation", async () => {
    const one = await client.responses.create({ model: "chat-model", input: "My name is Ada." });
    const two = await client.responses.create({ model: "chat-model", input: "What is my name?", previous_response_id: one.id });
    const three = await client.responses.create({ model: "chat-model", input: "Spell it.", previous_response_id: two.id, stream: false });
    const messages = JSON.parse(chatUp.completions.at(-1)!.body).messages as { role: string; content: string }[];
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "My name is Ada."],
      ["assistant", one.output_text],
      ["user", "What is my name?"],
      ["assistant", two.output_text],
      ["user", "Spell it."],
    ]);
    expect(three.previous_response_id).toBe(two.id);
  });

  it("retrieves, lists input items, deletes", async () => {
    const created = await client.responses.create({ model: "chat-model", input: [{ role: "user", content: "one" }, { role: "user", content: [{ type: "input_text", text: "two" }] }] });
    const fetched = await client.responses.retrieve(created.id);
    expect(fetched.id).toBe(created.id);
    expect(fetched.output_text).toBe(created.output_text);
    const items = await client.responses.inputItems.list(created.id, { order: "asc" });
    expect(items.data.map((item) => (item as { content: { text: string }[] }).content[0].text)).toEqual(["one", "two"]);
    const page = await client.responses.inputItems.list(created.id, { limit: 1 });
    expect(page.data.map((item) => (item as { content: { text: string }[] }).content[0].text)).toEqual(["two"]);
    expect(page.has_more).toBe(true);
    await client.responses.delete(created.id);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model: "chat-model", input: "again", previous_response_id: created.id })).rejects.toMatchObject({ status: 400, param: "previous_response_id" });
  });

  it("store: false keeps nothing", async () => {
    const created = await client.responses.create({ model: "chat-model", input: "private", store: false });
    expect((created as unknown as { store: boolean }).store).toBe(false);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it("an unknown previous_response_id is a clear 400", async () => {
    const err = await client.responses.create({ model: "chat-model", input: "x", previous_response_id: "resp_0123456789abcdef0123456789abcdef" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("Previous response with id 'resp_0123456789abcdef0123456789abcdef' not found.");
  });

  it("what a Chat target cannot do is a 400 naming the field, and no upstream call", async () => {
    const before = chatUp.completions.length;
    const err = await client.responses.create({ model: "chat-model", input: "x", tools: [{ type: "web_search" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as { param: string }).param).toBe("tools[0].type");
    const bad = await client.responses.create({ model: "chat-model", input: "x", max_output_tokens: 0 }).catch((e: unknown) => e);
    expect((bad as { status: number; param: string })).toMatchObject({ status: 400, param: "max_output_tokens" });
    expect(chatUp.completions.length).toBe(before);
  });

  it("native target: the client's bytes pass through to /responses, usage read from the answer and the final event", async () => {
    const response = await client.responses.create({ model: "native-model", input: "Hello native" });
    const sent = nativeUp.completions.at(-1)!;
    expect(sent.path).toBe("/v1/responses");
    expect(sent.headers.authorization).toBe("Bearer sk-native-upstream");
    expect(JSON.parse(sent.body)).toEqual({ model: "native-model", input: "Hello native" });
    expect(response.output_text).toBe(answer(4).trimEnd());

    const stream = await client.responses.create({ model: "native-model", input: "Hello native", stream: true, previous_response_id: response.id });
    let completed: OpenAI.Responses.Response | null = null;
    for await (const event of stream) if (event.type === "response.completed") completed = event.response;
    expect(completed!.usage!.output_tokens).toBe(4);
    // A native upstream's own id continues there: passed on as is.
    expect(JSON.parse(nativeUp.completions.at(-1)!.body).previous_response_id).toBe(response.id);
    const logs = gw.logs().filter((l) => l.msg === "request" && l.model === "native-model");
    expect(logs.at(-1)).toMatchObject({ route: "responses", status: 200, completionTokens: 4 });
    expect(logs.at(-2)).toMatchObject({ route: "responses", status: 200, completionTokens: 4 });
  });
});
