/**
 * `stream` decides how the gateway reads the answer, so it must be the boolean it reads: a client
 * sending `"stream": "true"` (or 1) was treated as non-streaming while a lax OpenAI-compatible
 * server (vLLM's pydantic models coerce "true" and 1 to True) streamed. The gateway then judged
 * the SSE answer malformed: 502 after trying every target, each failure counted toward passive
 * ejection, so three such requests ejected a healthy target and the next honest client got 503.
 * OpenAI answers 400 for a non-boolean `stream`; so must the gateway, in each dialect, before any
 * upstream is asked.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { postJson } from "../../helpers/http-client";
import { startTrafficGateway } from "../traffic/http-helpers";

async function post(url: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await postJson(url, path, body);
  return { status: res.status, json: await res.json() };
}

/** Streams whenever `stream` is truthy, as servers with lax boolean parsing do. */
function laxUpstream(): Promise<MockUpstream> {
  return MockUpstream.start("lax", (request) => {
    const stream = (request.json as Record<string, unknown> | null)?.stream;
    if (stream === "true" || stream === 1 || stream === "1") {
      return { kind: "sse", chunks: ['data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n', "data: [DONE]\n\n"] };
    }
    return { kind: "ok", tokens: 3 };
  });
}

describe("a non-boolean `stream`", () => {
  let lax: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    lax = await laxUpstream();
    gw = await startTestGateway({
      passiveHealth: { failures: 3, cooldownMs: 60_000 },
      models: [{ name: "served", targets: [{ name: "lax", baseUrl: lax.baseUrl }] }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await lax.stop();
  });

  it("is refused with OpenAI's 400 before any upstream is asked, and cannot eject the target", async () => {
    const before = lax.completions.length;
    for (const stream of ["true", 1, "1", {}, [true]]) {
      const res = await post(gw.url, "/v1/chat/completions", { model: "served", messages: [{ role: "user", content: "hi" }], stream });
      expect(res.status).toBe(400);
      const error = (res.json as { error: { type: string; param: string; message: string } }).error;
      expect([error.type, error.param]).toEqual(["invalid_request_error", "stream"]);
      expect(error.message).toMatch(/stream/);
    }
    expect(lax.completions.length).toBe(before);
    // The target still serves honest clients, streaming or not.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const plain = await client.chat.completions.create({ model: "served", messages: [{ role: "user", content: "hi" }] });
    expect(plain.choices[0].message.content).toBeTruthy();
    const chunks: string[] = [];
    for await (const chunk of await client.chat.completions.create({ model: "served", messages: [{ role: "user", content: "hi" }], stream: true })) chunks.push(chunk.choices[0]?.delta?.content ?? "");
    expect(chunks.join("").length).toBeGreaterThan(0);
  });

  it("is refused on the other routes too, in their dialect; null means not set", async () => {
    const completions = await post(gw.url, "/v1/completions", { model: "served", prompt: "hi", stream: "true" });
    expect([completions.status, (completions.json as { error: { param: string } }).error.param]).toEqual([400, "stream"]);
    const responses = await post(gw.url, "/v1/responses", { model: "served", input: "hi", stream: 1 });
    expect([responses.status, (responses.json as { error: { param: string } }).error.param]).toEqual([400, "stream"]);
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const refused = await anthropic.messages.create({ model: "served", max_tokens: 10, messages: [{ role: "user", content: "hi" }], stream: "true" as unknown as false }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    const unset = await post(gw.url, "/v1/chat/completions", { model: "served", messages: [{ role: "user", content: "hi" }], stream: null });
    expect(unset.status).toBe(200);
  });
});

describe("completions' `best_of`", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 3 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      keys: [{ name: "tok", key: "sk-best-of-0123456789", limits: { tokensPerMinute: 10_000 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });
  const KEY = { authorization: "Bearer sk-best-of-0123456789" };

  it("reserves every completion the upstream generates and bills (best_of × max_tokens), not n × max_tokens", async () => {
    const res = await postJson(gw.url, "/v1/completions", { model: "m", prompt: "hi", max_tokens: 100, best_of: 20 }, KEY);
    expect(res.status).toBe(200);
    // 1 prompt token + 20 × 100 completion tokens reserved; the old code reserved 100.
    expect(Number(res.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(10_000 - 2_000);
    await res.arrayBuffer();
    const refused = await postJson(gw.url, "/v1/completions", { model: "m", prompt: "hi", max_tokens: 100, best_of: 200 }, KEY);
    expect(refused.status).toBe(429);
    const bad = await postJson(gw.url, "/v1/completions", { model: "m", prompt: "hi", best_of: 2.5 }, KEY);
    expect([bad.status, ((await bad.json()) as { error: { param: string } }).error.param]).toEqual([400, "best_of"]);
  });
});
