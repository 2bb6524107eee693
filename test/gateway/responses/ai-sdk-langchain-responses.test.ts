/**
 * Other real clients of the Responses API against the gateway: the Vercel AI SDK's default OpenAI
 * provider (`createOpenAI({ baseURL, apiKey })(model)`, which calls /v1/responses) with
 * generateText, streamText and a tool loop, and LangChain's `ChatOpenAI({ useResponsesApi: true })`,
 * each against a Chat-only upstream (translated) and a native one (passed through).
 */
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { MockUpstream, type Behavior, type RecordedRequest } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

const answer = (n: number) => Array.from({ length: n }, (_, i) => mockToken(i)).join("");

/** A Chat-only upstream that calls the first tool offered until it gets a tool result (the native mock does this itself). */
function chatBehavior(request: RecordedRequest): Behavior {
  const body = request.json as { tools?: { function: { name: string } }[]; messages?: { role: string }[] } | null;
  if (!body?.tools?.length || body.messages?.some((m) => m.role === "tool")) return { kind: "ok", tokens: 5 };
  const call = { id: "call_1", type: "function", function: { name: body.tools[0].function.name, arguments: "{}" } };
  return { kind: "status", status: 200, body: JSON.stringify({ id: "c", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [call] }, finish_reason: "tool_calls" }], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } }) };
}

describe.each([["translated", false], ["native", true]])("AI SDK and LangChain on /v1/responses, %s", (_name, native) => {
  let up: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await MockUpstream.start("up", native ? { kind: "ok", tokens: 5 } : chatBehavior);
    gw = await startTestGateway({ models: [{ name: "m", targets: [{ name: "up", baseUrl: up.baseUrl, ...(native ? { responsesApi: "native" as const } : {}) }] }] });
  });
  afterAll(async () => {
    await gw.close();
    await up.stop();
  });

  const provider = () => createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused" });

  it("AI SDK generateText", async () => {
    const result = await generateText({ model: provider()("m"), prompt: "Hello", maxRetries: 0 });
    expect(result.text).toBe(answer(5).trimEnd());
    expect(result.usage.outputTokens).toBe(5);
    expect(result.finishReason).toBe("stop");
    expect(up.completions.at(-1)!.path).toBe(native ? "/v1/responses" : "/v1/chat/completions");
  });

  it("AI SDK streamText", async () => {
    const result = streamText({ model: provider()("m"), system: "Be brief.", prompt: "Hello", maxRetries: 0 });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(answer(5));
    expect((await result.usage).outputTokens).toBe(5);
    expect(await result.finishReason).toBe("stop");
  });

  it("AI SDK tool loop: the tool call, its result, then the answer", async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: provider()("m"),
      prompt: "Weather in Paris?",
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        weather: tool({
          description: "Weather in a city",
          inputSchema: jsonSchema<Record<string, never>>({ type: "object", properties: {}, additionalProperties: false }),
          execute: async (input) => {
            calls.push(input);
            return "18C";
          },
        }),
      },
    });
    expect(calls).toEqual([{}]);
    expect(result.steps.length).toBe(2);
    expect(result.text).toBe(answer(5).trimEnd());
    const last = JSON.parse(up.completions.at(-1)!.body);
    // The second step carried the tool's output back upstream.
    expect(JSON.stringify(last)).toContain("18C");
  });

  it("LangChain ChatOpenAI with useResponsesApi: invoke and stream", async () => {
    const chat = new ChatOpenAI({ model: "m", useResponsesApi: true, apiKey: "unused", configuration: { baseURL: `${gw.url}/v1` }, maxRetries: 0 });
    const message = await chat.invoke("Hello");
    expect(message.text).toBe(answer(5).trimEnd());
    expect(message.usage_metadata?.output_tokens).toBe(5);
    let streamed = "";
    for await (const chunk of await chat.stream("Hello")) streamed += chunk.text;
    expect(streamed).toBe(answer(5));
    expect(up.completions.at(-1)!.path).toBe(native ? "/v1/responses" : "/v1/chat/completions");
  });
});
