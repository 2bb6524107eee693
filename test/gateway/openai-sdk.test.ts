/** The official `openai` SDK against the gateway: chat, streaming, embeddings, models, and its error classes. */
import OpenAI from "openai";
import { MockUpstream } from "../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { mockToken } from "../../gateway/src/upstream/mock-responses";

describe("openai SDK", () => {
  let upstream: MockUpstream;
  let picky: MockUpstream;
  let gw: TestGateway;
  let client: OpenAI;
  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 6 });
    picky = await MockUpstream.start("picky", (_r, i) =>
      i % 2 === 0
        ? { kind: "status", status: 400, body: JSON.stringify({ error: { message: "max_tokens is too large", type: "invalid_request_error", param: "max_tokens", code: "invalid_value" } }) }
        : { kind: "cut-stream", afterEvents: 3 },
    );
    gw = await startTestGateway({
      passiveHealth: { failures: 1, cooldownMs: 60_000 },
      models: [
        { name: "gpt-test", targets: [{ name: "up", baseUrl: upstream.baseUrl, apiKey: "sk-upstream" }] },
        { name: "embed-test", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "picky", targets: [{ name: "picky", baseUrl: picky.baseUrl }] },
        { name: "down", targets: [{ name: "down", baseUrl: "http://127.0.0.1:1/v1" }] },
        { name: "builtin", targets: [{ name: "mock", baseUrl: "mock://builtin" }] },
      ],
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([upstream.stop(), picky.stop()]);
  });

  const answer = Array.from({ length: 6 }, (_, i) => mockToken(i)).join("");

  it("creates a chat completion", async () => {
    const completion = await client.chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "Hello" }] });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0].message.content).toBe(answer.trimEnd());
    expect(completion.usage?.completion_tokens).toBe(6);
    expect(upstream.completions.at(-1)!.headers.authorization).toBe("Bearer sk-upstream");
  });

  it("streams a chat completion with for await", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "Hello" }], stream: true });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(chunk.choices).toHaveLength(1);
      text += chunk.choices[0].delta.content ?? "";
    }
    expect(text).toBe(answer);
    expect(chunks).toBe(8);
  });

  it("gets the usage chunk when it asks for it", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ completion_tokens: 6 });
  });

  it("creates embeddings", async () => {
    // The SDK asks for base64 and decodes it; with floats asked for, both must agree.
    const result = await client.embeddings.create({ model: "embed-test", input: ["one", "two"], dimensions: 4 });
    const floats = await client.embeddings.create({ model: "embed-test", input: ["one", "two"], dimensions: 4, encoding_format: "float" });
    expect(result.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    result.data.forEach((d, i) => d.embedding.forEach((v, j) => expect(v).toBeCloseTo(floats.data[i].embedding[j], 5)));
    expect(Math.hypot(...result.data[0].embedding)).toBeCloseTo(1, 4);
    // The built-in mock:// target (what `npm start` serves) answers the SDK the same way.
    const builtin = await client.embeddings.create({ model: "builtin", input: "one" });
    expect(builtin.data[0].embedding).toHaveLength(8);
    expect(Math.hypot(...builtin.data[0].embedding)).toBeCloseTo(1, 4);
  });

  it("lists models and retrieves one", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(["gpt-test", "embed-test", "picky", "down", "builtin"]);
    expect((await client.models.retrieve("gpt-test")).id).toBe("gpt-test");
  });

  it("raises NotFoundError for an unknown model", async () => {
    const call = client.chat.completions.create({ model: "gpt-nope", messages: [{ role: "user", content: "x" }] });
    await expect(call).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(call).rejects.toMatchObject({ status: 404, code: "model_not_found", param: "model", type: "invalid_request_error" });
    await expect(client.models.retrieve("gpt-nope")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("raises BadRequestError with the upstream's own error, passed through", async () => {
    const call = client.chat.completions.create({ model: "picky", messages: [{ role: "user", content: "x" }], max_tokens: 1e9 });
    await expect(call).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(call).rejects.toMatchObject({ status: 400, code: "invalid_value", param: "max_tokens", message: expect.stringContaining("max_tokens is too large") });
  });

  it("raises an APIError while iterating a stream the upstream cut", async () => {
    const stream = await client.chat.completions.create({ model: "picky", messages: [{ role: "user", content: "x" }], stream: true });
    const seen: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    };
    await expect(iterate()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(seen).toHaveLength(3);
  });

  it("raises InternalServerError for 502, then 503 once the target is ejected (maxRetries: 0)", async () => {
    const first = client.chat.completions.create({ model: "down", messages: [{ role: "user", content: "x" }] });
    await expect(first).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(first).rejects.toMatchObject({ status: 502, code: "upstream_error" });
    const second = client.chat.completions.create({ model: "down", messages: [{ role: "user", content: "x" }] });
    await expect(second).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(second).rejects.toMatchObject({ status: 503, code: "no_healthy_upstream", type: "server_error" });
  });

  it("raises APIConnectionError when the gateway is not there", async () => {
    const nowhere = new OpenAI({ baseURL: "http://127.0.0.1:1/v1", apiKey: "sk-client", maxRetries: 0 });
    await expect(nowhere.models.list()).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
