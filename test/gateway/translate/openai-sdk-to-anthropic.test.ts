/**
 * The official `openai` SDK's chat.completions against `provider: anthropic` targets (a real
 * HTTP mock of Anthropic's API): requests translated to /v1/messages with x-api-key and
 * anthropic-version, max_tokens supplied, answers and streams translated back, usage with cache
 * reads and writes, tools, Anthropic's errors mapped (400 passed on, 429 with retry-after and 529
 * failed over), and a stream cut mid-way ending with the OpenAI-style error event.
 */
import OpenAI from "openai";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { metricValue, scrape } from "../../helpers/http-client";
import { DEFAULT_ANTHROPIC_MAX_TOKENS } from "../../../gateway/src/translate/anthropic-openai/request";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

const answer = (tokens: number) => Array.from({ length: tokens }, (_, i) => mockToken(i)).join("").trimEnd();
const HELLO: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Hello" }];
const WEATHER: OpenAI.ChatCompletionTool = { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } } } } };

describe("openai SDK chat.completions on a native Anthropic target", () => {
  let claude: MockAnthropic;
  let limited: MockAnthropic;
  let overloaded: MockAnthropic;
  let cut: MockAnthropic;
  let gw: TestGateway;
  let client: OpenAI;
  beforeAll(async () => {
    claude = await MockAnthropic.start({ kind: "ok", tokens: 7 });
    limited = await MockAnthropic.start({ kind: "error", status: 429, message: "Number of request tokens has exceeded your per-minute rate limit", headers: { "retry-after": "30" } });
    overloaded = await MockAnthropic.start({ kind: "error", status: 529, message: "Overloaded" });
    cut = await MockAnthropic.start({ kind: "cut-stream", afterEvents: 5 });
    gw = await startTestGateway({
      models: [
        { name: "claude", targets: [{ name: "anthropic", baseUrl: claude.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-9", model: "claude-upstream" }] },
        {
          name: "claude-busy",
          strategy: "round-robin",
          targets: [
            { name: "limited", baseUrl: limited.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-8" },
            { name: "overloaded", baseUrl: overloaded.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-8" },
            { name: "ok", baseUrl: claude.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-9" },
          ],
        },
        { name: "claude-cut", targets: [{ name: "cut", baseUrl: cut.baseUrl, provider: "anthropic" }] },
      ],
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([claude.stop(), limited.stop(), overloaded.stop(), cut.stop()]);
  });

  it("creates a chat completion through /v1/messages, max_tokens supplied, system and stop translated", async () => {
    const completion = await client.chat.completions.create({ model: "claude", messages: [{ role: "system", content: "Be brief." }, ...HELLO], stop: "END", temperature: 1.6 });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("claude");
    expect(completion.choices[0].message.content).toBe(answer(7));
    expect(completion.choices[0].finish_reason).toBe("stop");
    expect(completion.usage?.completion_tokens).toBe(7);
    const seen = claude.messages.at(-1)!;
    expect([seen.path, seen.headers["x-api-key"], seen.headers["anthropic-version"], seen.headers.authorization]).toEqual(["/v1/messages", "sk-ant-upstream-secret-9", "2023-06-01", undefined]);
    expect(seen.json).toEqual({ model: "claude-upstream", max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS, messages: [{ role: "user", content: "Hello" }], system: "Be brief.", temperature: 1, stop_sequences: ["END"] });
    await client.chat.completions.create({ model: "claude", messages: HELLO, max_completion_tokens: 33 });
    expect(claude.messages.at(-1)!.json?.max_tokens).toBe(33);
  });

  it("maps usage with prompt-cache reads and writes into prompt_tokens, the access log and the token metric", async () => {
    claude.behavior = { kind: "message", message: { id: "msg_c", type: "message", role: "assistant", model: "claude-upstream", content: [{ type: "text", text: "cached" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 } } };
    try {
      const before = (await metricValue(await scrape(gw.url), "aigw_tokens_total", { model: "claude", kind: "prompt" })) ?? 0;
      const completion = await client.chat.completions.create({ model: "claude", messages: HELLO });
      expect(completion.usage).toEqual({ prompt_tokens: 1110, completion_tokens: 5, total_tokens: 1115, prompt_tokens_details: { cached_tokens: 1000 } });
      const log = gw.logs().filter((l) => l.msg === "request" && l.route === "chat.completions").at(-1)!;
      expect([log.promptTokens, log.completionTokens]).toEqual([1110, 5]);
      expect(await metricValue(await scrape(gw.url), "aigw_tokens_total", { model: "claude", kind: "prompt" })).toBe(before + 1110);
    } finally {
      claude.behavior = { kind: "ok", tokens: 7 };
    }
  });

  it("streams a chat completion translated from Anthropic's events, with the usage chunk only when asked", async () => {
    const stream = await client.chat.completions.create({ model: "claude", messages: HELLO, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(answer(7));
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBe(7);
    expect(claude.messages.at(-1)!.json?.stream).toBe(true);
    const plain = await client.chat.completions.create({ model: "claude", messages: HELLO, stream: true });
    let sawUsage = false;
    for await (const chunk of plain) if (chunk.usage) sawUsage = true;
    expect(sawUsage).toBe(false);
    const log = gw.logs().filter((l) => l.msg === "request" && l.route === "chat.completions").at(-1)!;
    expect(log.completionTokens).toBe(7);
  });

  it("sends tools and a required tool choice, and returns tool calls, buffered and streamed", async () => {
    const completion = await client.chat.completions.create({ model: "claude", messages: HELLO, tools: [WEATHER], tool_choice: "required", parallel_tool_calls: false });
    const sent = claude.messages.at(-1)!.json!;
    expect(sent.tools).toEqual([{ name: "get_weather", description: "Weather for a city", input_schema: WEATHER.function.parameters }]);
    expect(sent.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(completion.choices[0].finish_reason).toBe("tool_calls");
    const call = completion.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function).toEqual({ name: "get_weather", arguments: '{"query":"mock"}' });

    const stream = await client.chat.completions.create({ model: "claude", messages: HELLO, tools: [WEATHER], tool_choice: { type: "function", function: { name: "get_weather" } }, stream: true });
    let args = "";
    let name = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.tool_calls?.[0];
      if (delta?.function?.name) name = delta.function.name;
      args += delta?.function?.arguments ?? "";
    }
    expect([name, args]).toEqual(["get_weather", '{"query":"mock"}']);

    await client.chat.completions.create({ model: "claude", tools: [WEATHER], messages: [...HELLO, { role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] }, { role: "tool", tool_call_id: "toolu_1", content: "4°C" }] });
    expect(claude.messages.at(-1)!.json?.messages).toEqual([
      { role: "user", content: "Hello" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "4°C" }] },
    ]);
  });

  it("passes Anthropic's 400 on as OpenAI's error shape", async () => {
    claude.behavior = { kind: "error", status: 400, message: "messages: roles must alternate" };
    try {
      const err = await client.chat.completions.create({ model: "claude", messages: HELLO }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.APIError>).error).toEqual({ message: "messages: roles must alternate", type: "invalid_request_error", param: null, code: "invalid_request_error" });
    } finally {
      claude.behavior = { kind: "ok", tokens: 7 };
    }
  });

  it("fails over from Anthropic's 429 (cooling the target for its retry-after) and 529 before the first byte", async () => {
    for (let i = 0; i < 3; i++) {
      const completion = await client.chat.completions.create({ model: "claude-busy", messages: HELLO, stream: i === 1 });
      if ("choices" in completion) expect(completion.choices[0].message.content).toBe(answer(7));
      else for await (const _chunk of completion) void _chunk;
    }
    const metrics = await scrape(gw.url);
    expect(await metricValue(metrics, "aigw_upstream_retries_total", { model: "claude-busy", target: "limited", reason: "status_429" })).toBe(1);
    expect(await metricValue(metrics, "aigw_upstream_retries_total", { model: "claude-busy", target: "overloaded", reason: "status_5xx" })).toBeGreaterThan(0);
    // The 429's retry-after (30 s) keeps that target out: it was called once.
    expect(limited.messages).toHaveLength(1);
  });

  it("refuses n > 1, which Anthropic cannot answer", async () => {
    const err = await client.chat.completions.create({ model: "claude", messages: HELLO, n: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).param).toBe("n");
  });

  it("ends a stream cut after its first byte with the OpenAI-style error event, which the SDK raises", async () => {
    const stream = await client.chat.completions.create({ model: "claude-cut", messages: HELLO, stream: true });
    let text = "";
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String((err as Error).message)).toMatch(/interrupted/);
    expect(text.length).toBeGreaterThan(0);
  });
});
