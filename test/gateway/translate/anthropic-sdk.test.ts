/**
 * The official `@anthropic-ai/sdk` against the gateway's /v1/messages: passed through to a native
 * Anthropic upstream (a real HTTP mock), and translated to an OpenAI-compatible upstream — create,
 * stream, tools, images, thinking, stop sequences, countTokens, failover before the first byte,
 * streams cut after it, and Anthropic-shaped errors.
 */
import Anthropic from "@anthropic-ai/sdk";
import { MockAnthropic } from "../../helpers/mock-anthropic";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { metricValue, scrape } from "../../helpers/http-client";
import { MOCK_THINKING } from "../../../gateway/src/dialects/anthropic/mock";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

const answer = (tokens: number) => Array.from({ length: tokens }, (_, i) => mockToken(i)).join("").trimEnd();
const HELLO: Anthropic.MessageParam[] = [{ role: "user", content: "Hello" }];
const WEATHER: Anthropic.Tool = { name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

describe("@anthropic-ai/sdk through /v1/messages", () => {
  let native: MockAnthropic;
  let overloaded: MockAnthropic;
  let cut: MockAnthropic;
  let compat: MockUpstream;
  let compatCut: MockUpstream;
  let gw: TestGateway;
  let client: Anthropic;
  beforeAll(async () => {
    native = await MockAnthropic.start({ kind: "ok", tokens: 8 });
    overloaded = await MockAnthropic.start({ kind: "error", status: 529, message: "Overloaded" });
    cut = await MockAnthropic.start({ kind: "cut-stream", afterEvents: 5 });
    compat = await MockUpstream.start("compat", { kind: "ok", tokens: 6 });
    compatCut = await MockUpstream.start("compat-cut", { kind: "cut-stream", afterEvents: 4 });
    gw = await startTestGateway({
      passiveHealth: { failures: 100 },
      models: [
        { name: "claude", targets: [{ name: "anthropic", baseUrl: native.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-1", model: "claude-upstream" }] },
        {
          name: "claude-failover",
          strategy: "round-robin",
          targets: [
            { name: "overloaded", baseUrl: overloaded.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-2" },
            { name: "healthy", baseUrl: native.baseUrl, provider: "anthropic", apiKey: "sk-ant-upstream-secret-1" },
          ],
        },
        { name: "claude-cut", targets: [{ name: "cut", baseUrl: cut.baseUrl, provider: "anthropic" }] },
        { name: "gpt", targets: [{ name: "compat", baseUrl: compat.baseUrl, apiKey: "sk-openai-upstream-secret", model: "gpt-upstream" }] },
        { name: "gpt-cut", targets: [{ name: "compat-cut", baseUrl: compatCut.baseUrl }] },
      ],
    });
    client = new Anthropic({ baseURL: gw.url, apiKey: "sk-client-not-forwarded", maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([native.stop(), overloaded.stop(), cut.stop(), compat.stop(), compatCut.stop()]);
  });

  describe("to a native Anthropic target (pass-through)", () => {
    it("creates a message with the target's key, version and model", async () => {
      const message = await client.messages.create({ model: "claude", max_tokens: 100, system: "Be brief.", messages: HELLO });
      expect(message.type).toBe("message");
      expect(message.content).toEqual([{ type: "text", text: answer(8) }]);
      expect(message.usage.output_tokens).toBe(8);
      const seen = native.messages.at(-1)!;
      expect([seen.path, seen.headers["x-api-key"], seen.headers["anthropic-version"], seen.json?.model, seen.json?.system]).toEqual(["/v1/messages", "sk-ant-upstream-secret-1", "2023-06-01", "claude-upstream", "Be brief."]);
    });

    it("streams a message event by event, usage included", async () => {
      const stream = client.messages.stream({ model: "claude", max_tokens: 100, messages: HELLO });
      const deltas: string[] = [];
      stream.on("text", (text) => deltas.push(text));
      const final = await stream.finalMessage();
      expect(deltas.join("")).toBe(answer(8));
      expect(deltas.length).toBe(8);
      expect(final.stop_reason).toBe("end_turn");
      expect(final.usage.output_tokens).toBe(8);
      const log = gw.logs().filter((l) => l.msg === "request" && l.route === "messages").at(-1)!;
      expect([log.status, log.completionTokens, log.target]).toEqual([200, 8, "anthropic"]);
      expect(log.promptTokens).toBeGreaterThan(0);
    });

    it("calls a tool and takes its result back", async () => {
      const first = await client.messages.create({ model: "claude", max_tokens: 100, tools: [WEATHER], tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: "Weather in Paris?" }] });
      expect(first.stop_reason).toBe("tool_use");
      const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
      expect(call.name).toBe("get_weather");
      const second = await client.messages.create({
        model: "claude",
        max_tokens: 100,
        tools: [WEATHER],
        messages: [
          { role: "user", content: "Weather in Paris?" },
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18°C, clear" }] },
        ],
      });
      expect(second.stop_reason).toBe("end_turn");
      expect(native.messages.at(-1)!.json?.messages).toHaveLength(3);
    });

    it("keeps thinking, cache_control, stop sequences and betas as the client sent them", async () => {
      const message = await client.messages.create(
        {
          model: "claude",
          max_tokens: 2048,
          thinking: { type: "enabled", budget_tokens: 1024 },
          system: [{ type: "text", text: "A long shared prefix.", cache_control: { type: "ephemeral" } }],
          stop_sequences: ["mock"],
          messages: HELLO,
        },
        { headers: { "anthropic-beta": "interleaved-thinking-2025-05-14" } },
      );
      expect(message.content[0]).toEqual({ type: "thinking", thinking: MOCK_THINKING, signature: "mock-signature" });
      expect(message.stop_reason).toBe("stop_sequence");
      expect(message.stop_sequence).toBe("mock");
      const seen = native.messages.at(-1)!;
      expect(seen.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14");
      expect((seen.json?.system as { cache_control: unknown }[])[0].cache_control).toEqual({ type: "ephemeral" });
    });

    it("counts tokens upstream", async () => {
      const count = await client.messages.countTokens({ model: "claude", messages: HELLO });
      expect(count.input_tokens).toBeGreaterThan(0);
      expect(native.requests.at(-1)!.path).toBe("/v1/messages/count_tokens");
    });

    it("fails over from a 529 overloaded target before the first byte", async () => {
      const before = overloaded.messages.length;
      for (let i = 0; i < 2; i++) {
        const stream = client.messages.stream({ model: "claude-failover", max_tokens: 50, messages: HELLO });
        expect((await stream.finalMessage()).content[0]).toEqual({ type: "text", text: answer(8) });
      }
      expect(overloaded.messages.length).toBeGreaterThan(before);
      expect(await metricValue(await scrape(gw.url), "aigw_upstream_retries_total", { model: "claude-failover", target: "overloaded", reason: "status_5xx" })).toBeGreaterThan(0);
    });

    it("ends a stream cut after its first byte with Anthropic's error event, which the SDK raises", async () => {
      const stream = client.messages.stream({ model: "claude-cut", max_tokens: 50, messages: HELLO });
      await expect(stream.finalMessage()).rejects.toThrow(/interrupted/);
      const raw = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "claude-cut", max_tokens: 50, stream: true, messages: HELLO }) });
      const text = await raw.text();
      expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The upstream stream was interrupted\."\}\}\n\n$/);
    });

    it("raises the SDK's typed errors for Anthropic-shaped 4xx answers", async () => {
      const missing = await client.messages.create({ model: "claude", messages: HELLO } as unknown as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(Anthropic.BadRequestError);
      expect((missing as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } });
      const badRole = await client.messages.create({ model: "claude", max_tokens: 10, messages: [{ role: "system" as "user", content: "x" }] }).catch((e: unknown) => e);
      expect(badRole).toBeInstanceOf(Anthropic.BadRequestError);
      expect(String((badRole as Error).message)).toMatch(/messages\.0\.role/);
      const unknown = await client.messages.create({ model: "no-such-model", max_tokens: 10, messages: HELLO }).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    });
  });

  describe("to an OpenAI-compatible target (translated)", () => {
    it("creates a message from a chat completion: system, stop sequences, max_tokens and the model translated", async () => {
      // temperature is not in this SDK version's types; clients of older versions send it.
      const params = { model: "gpt", max_tokens: 77, system: "Be brief.", stop_sequences: ["END"], temperature: 0.5, messages: HELLO } as Anthropic.MessageCreateParamsNonStreaming;
      const message = await client.messages.create(params);
      expect(message.content).toEqual([{ type: "text", text: answer(6) }]);
      expect(message.model).toBe("gpt");
      expect(message.stop_reason).toBe("end_turn");
      expect(message.usage.output_tokens).toBe(6);
      const seen = compat.completions.at(-1)!;
      expect(seen.path).toBe("/v1/chat/completions");
      expect(seen.headers.authorization).toBe("Bearer sk-openai-upstream-secret");
      expect(JSON.parse(seen.body)).toEqual({ model: "gpt-upstream", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }], max_tokens: 77, temperature: 0.5, stop: ["END"] });
    });

    it("streams a message translated chunk by chunk, with the usage the gateway asked for", async () => {
      const stream = client.messages.stream({ model: "gpt", max_tokens: 100, messages: HELLO });
      const deltas: string[] = [];
      stream.on("text", (text) => deltas.push(text));
      const final = await stream.finalMessage();
      expect(deltas.join("")).toBe(`${answer(6)} `);
      expect(final.usage.output_tokens).toBe(6);
      expect(final.usage.input_tokens).toBeGreaterThan(0);
      expect(JSON.parse(compat.completions.at(-1)!.body).stream_options).toEqual({ include_usage: true });
    });

    it("sends base64 images as data URLs and tool results as tool messages", async () => {
      await client.messages.create({
        model: "gpt",
        max_tokens: 50,
        tools: [WEATHER],
        messages: [
          { role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: PIXEL } }, { type: "text", text: "And the weather?" }] },
          { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: [{ type: "text", text: "18°C" }] }] },
        ],
      });
      const sent = JSON.parse(compat.completions.at(-1)!.body);
      expect(sent.messages).toEqual([
        { role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL}` } }, { type: "text", text: "And the weather?" }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "18°C" },
      ]);
      expect(sent.tools).toEqual([{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: WEATHER.input_schema } }]);
    });

    it("turns tool calls into tool_use blocks, buffered and streamed", async () => {
      const completion = { id: "chatcmpl-t", object: "chat.completion", created: 1, model: "gpt-upstream", choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: "call_9", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] }, finish_reason: "tool_calls" }], usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 } };
      const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      const chunks = [
        chunk({ role: "assistant", content: "Let me check. " }),
        chunk({ tool_calls: [{ index: 0, id: "call_7", type: "function", function: { name: "get_weather", arguments: "" } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Rome"}' } }] }),
        chunk({}, "tool_calls"),
        `data: ${JSON.stringify({ id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 } })}\n\n`,
        "data: [DONE]\n\n",
      ];
      compat.behavior = (request) => (request.json?.stream === true ? { kind: "sse", chunks } : { kind: "status", status: 200, body: JSON.stringify(completion) });
      try {
        const message = await client.messages.create({ model: "gpt", max_tokens: 50, tools: [WEATHER], messages: HELLO });
        expect(message.stop_reason).toBe("tool_use");
        expect(message.content).toEqual([{ type: "tool_use", id: "call_9", name: "get_weather", input: { city: "Oslo" } }]);
        expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 9 });
        const final = await client.messages.stream({ model: "gpt", max_tokens: 50, tools: [WEATHER], messages: HELLO }).finalMessage();
        expect(final.stop_reason).toBe("tool_use");
        expect(final.content).toEqual([{ type: "text", text: "Let me check. " }, { type: "tool_use", id: "call_7", name: "get_weather", input: { city: "Rome" } }]);
        expect(final.usage).toMatchObject({ input_tokens: 30, output_tokens: 12 });
      } finally {
        compat.behavior = { kind: "ok", tokens: 6 };
      }
    });

    it("counts tokens itself, with no upstream call", async () => {
      const calls = compat.requests.length;
      const count = await client.messages.countTokens({ model: "gpt", system: "Be brief.", messages: [{ role: "user", content: "Hello there, how are you today?" }] });
      expect(count.input_tokens).toBeGreaterThan(5);
      expect(compat.requests.length).toBe(calls);
    });

    it("passes the upstream's 4xx on in Anthropic's shape", async () => {
      compat.behavior = { kind: "status", status: 400, body: JSON.stringify({ error: { message: "This model's maximum context length is 8192 tokens.", type: "invalid_request_error", param: "messages", code: "context_length_exceeded" } }) };
      try {
        const err = await client.messages.create({ model: "gpt", max_tokens: 50, messages: HELLO }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Anthropic.BadRequestError);
        expect((err as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: "error", error: { type: "invalid_request_error", message: "This model's maximum context length is 8192 tokens." } });
      } finally {
        compat.behavior = { kind: "ok", tokens: 6 };
      }
    });

    it("ends a translated stream cut after its first byte with Anthropic's error event", async () => {
      const stream = client.messages.stream({ model: "gpt-cut", max_tokens: 50, messages: HELLO });
      const deltas: string[] = [];
      stream.on("text", (text) => deltas.push(text));
      await expect(stream.finalMessage()).rejects.toThrow(/interrupted/);
      expect(deltas.length).toBeGreaterThan(0);
    });
  });
});
