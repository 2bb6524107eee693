/** Streaming through the gateway: chunk by chunk, usage injected and hidden, tokens and TTFT measured. */
import { chat, json, metricValue, postJson, readStream, scrape, sseData } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

const answer = (tokens: number) => Array.from({ length: tokens }, (_, i) => mockToken(i)).join("");
const contentOf = (events: string[]) =>
  events.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d)).flatMap((c) => c.choices.map((ch: { delta?: { content?: string }; text?: string }) => ch.delta?.content ?? ch.text ?? "")).join("");

describe("streaming", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 10 });
    gw = await startTestGateway({
      models: [
        { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "slow", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
        { name: "builtin", targets: [{ name: "mock", baseUrl: "mock://b", mock: { tokens: 6, interTokenMs: 20 } }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  const contents = contentOf;

  it("delivers the first chunk while the upstream is still sending", async () => {
    upstream.behavior = { kind: "ok", tokens: 10, interTokenMs: 50 };
    try {
      const sentBefore = upstream.eventsSent;
      const completedBefore = upstream.streamsCompleted;
      const res = await chat(gw.url, { model: "slow", stream: true });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      let atFirstChunk: { sent: number; completed: number } | null = null;
      let reads = 0;
      const text = await readStream(res, (_chunk, i) => {
        reads++;
        if (i === 0) atFirstChunk = { sent: upstream.eventsSent - sentBefore, completed: upstream.streamsCompleted - completedBefore };
      });
      // 1 role chunk + 10 tokens + 1 finish + 1 usage (injected) + [DONE] = 14 events upstream.
      expect(atFirstChunk).not.toBeNull();
      expect(atFirstChunk!.completed).toBe(0);
      expect(atFirstChunk!.sent).toBeLessThan(14);
      expect(reads).toBeGreaterThan(1);
      expect(upstream.streamsCompleted - completedBefore).toBe(1);
      expect(sseData(text).at(-1)).toBe("[DONE]");
    } finally {
      upstream.behavior = { kind: "ok", tokens: 10 };
    }
  });

  it("asks upstream for usage, hides the extra chunk, and counts the tokens", async () => {
    const res = await chat(gw.url, { model: "m", stream: true }, { "x-request-id": "stream-usage" });
    const events = sseData(await readStream(res));
    const sent = upstream.completions.at(-1)!.json!;
    expect(sent.stream_options).toEqual({ include_usage: true });
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks).toHaveLength(12);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(contents(events.slice(0, -1))).toBe(answer(10));
    const log = gw.logs().find((l) => l.msg === "request" && l.reqId === "stream-usage")!;
    expect(log).toMatchObject({ status: 200, completionTokens: 10, promptTokens: expect.any(Number) });
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_tokens_total", { model: "m", kind: "completion" })).toBeGreaterThanOrEqual(10);
    expect(metricValue(metrics, "aigw_tokens_total", { model: "m", kind: "prompt" })).toBeGreaterThanOrEqual(log.promptTokens as number);
  });

  it("keeps the usage chunk when the client asked for it, and keeps its other stream options", async () => {
    const res = await chat(gw.url, { model: "m", stream: true, stream_options: { include_usage: true } });
    const chunks = sseData(await readStream(res)).slice(0, -1).map((d) => JSON.parse(d));
    expect(upstream.completions.at(-1)!.json!.stream_options).toEqual({ include_usage: true });
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 10 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("counts tokens of non-streaming answers too", async () => {
    const before = metricValue(await scrape(gw.url), "aigw_tokens_total", { model: "m", kind: "completion" }) ?? 0;
    const res = await chat(gw.url, { model: "m" });
    expect((await json(res)).usage.completion_tokens).toBe(10);
    expect(metricValue(await scrape(gw.url), "aigw_tokens_total", { model: "m", kind: "completion" })).toBe(before + 10);
  });

  it("streams text completions the same way", async () => {
    const res = await postJson(gw.url, "/v1/completions", { model: "m", prompt: "Say", stream: true });
    const events = sseData(await readStream(res));
    expect(events.at(-1)).toBe("[DONE]");
    expect(events.slice(0, -1).map((d) => JSON.parse(d)).every((c) => c.object === "text_completion" && c.choices.length === 1)).toBe(true);
  });

  it("populates the time-to-first-token histogram and logs ttftMs for streams only", async () => {
    await readStream(await chat(gw.url, { model: "m", stream: true }, { "x-request-id": "ttft-stream" }));
    await (await chat(gw.url, { model: "m" }, { "x-request-id": "ttft-plain" })).text();
    expect(metricValue(await scrape(gw.url), "aigw_time_to_first_token_seconds_count", { model: "m" })).toBeGreaterThanOrEqual(1);
    const lines = gw.logs().filter((l) => l.msg === "request");
    expect(lines.find((l) => l.reqId === "ttft-stream")!.ttftMs).toEqual(expect.any(Number));
    expect(lines.find((l) => l.reqId === "ttft-plain")!.ttftMs).toBeUndefined();
  });

  it("streams from the built-in mock:// target, deterministically", async () => {
    const first = await readStream(await chat(gw.url, { model: "builtin", stream: true }));
    const second = await readStream(await chat(gw.url, { model: "builtin", stream: true }));
    expect(first).toBe(second);
    const events = sseData(first);
    expect(events.at(-1)).toBe("[DONE]");
    expect(contents(events.slice(0, -1))).toBe(answer(6));
  });

  it("refuses stream: true on a route that cannot stream", async () => {
    const res = await postJson(gw.url, "/v1/embeddings", { model: "m", input: "x", stream: true });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ code: "invalid_request", param: "stream" });
  });
});

describe("a stream longer than the server's request timeout", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      server: { requestTimeoutMs: 400, headersTimeoutMs: 400 },
      models: [{ name: "long", targets: [{ name: "mock", baseUrl: "mock://long", mock: { tokens: 12, interTokenMs: 80 } }] }],
    });
  });
  afterAll(() => gw.close());

  it("is not cut: the request timeout only bounds receiving the request", async () => {
    const events = sseData(await readStream(await chat(gw.url, { model: "long", stream: true })));
    expect(events.at(-1)).toBe("[DONE]");
    expect(contentOf(events)).toBe(answer(12));
  });
});
