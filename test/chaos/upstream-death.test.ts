/**
 * A target dies while requests are running (its process is gone: every socket cut, the port
 * closed). Non-streaming requests in flight lose nothing, streams whose first byte has not
 * been sent go to another target, and a stream already under way ends with a clear SSE error
 * event and a clean close, never a hang.
 */
import OpenAI from "openai";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { chatBody, postJson, streamChat, type SseAnswer } from "./support/http";

const FULL_ANSWER = "The gateway answered this request from a mock upstream so";

describe("a target dies under load", () => {
  let dying: MockUpstream;
  let survivor: MockUpstream;
  let gw: TestGateway;

  async function start(behavior: MockUpstream["behavior"]): Promise<void> {
    dying = await MockUpstream.start("dying", behavior);
    survivor = await MockUpstream.start("survivor", { kind: "ok", tokens: 10 });
    gw = await startTestGateway({
      models: [
        { name: "pair", strategy: "round-robin", targets: [{ name: "dying", baseUrl: dying.baseUrl }, { name: "survivor", baseUrl: survivor.baseUrl }] },
        { name: "solo", targets: [{ name: "dying", baseUrl: dying.baseUrl }] },
      ],
    });
  }
  afterEach(async () => {
    await gw.close();
    await Promise.all([dying.stop().catch(() => undefined), survivor.stop()]);
  });

  it("loses no non-streaming request that was in flight on the target when it died", async () => {
    await start({ kind: "ok", tokens: 10, latencyMs: 1_500 });
    const requests = Array.from({ length: 40 }, () => postJson(gw.url, "/v1/chat/completions", chatBody("pair")));
    await eventually(() => dying.completions.length >= 15, 10_000);
    const inFlightAtDeath = dying.completions.length;
    await dying.kill();
    const answers = await Promise.all(requests);

    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const answer of answers) {
      const body = JSON.parse(answer.text) as { choices: { message: { content: string } }[] };
      expect(body.choices[0].message.content).toBe(FULL_ANSWER);
      expect(answer.headers["x-gateway-target"]).toBe("survivor");
    }
    // The fault really hit requests: those that were on the dying target were retried.
    expect(answers.filter((a) => Number(a.headers["x-gateway-attempts"]) >= 2).length).toBeGreaterThanOrEqual(inFlightAtDeath);
  });

  it("moves streams that had not started yet to another target, complete", async () => {
    await start({ kind: "ok", tokens: 10, ttftMs: 1_500 });
    const streams = Array.from({ length: 20 }, () => streamChat(gw.url, chatBody("pair")));
    await eventually(() => dying.completions.length >= 8, 10_000);
    const pendingAtDeath = dying.completions.length;
    await dying.kill();
    const answers = await Promise.all(streams);

    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.transportError).toBeNull();
      expect(answer.error).toBeNull();
      expect(answer.done).toBe(true);
      expect(answer.content.trim()).toBe(FULL_ANSWER);
    }
    expect(answers.filter((a) => a.headers["x-gateway-attempts"] === "2").length).toBeGreaterThanOrEqual(pendingAtDeath);
  });

  it("ends a stream already under way with an SSE error event and a clean close", async () => {
    await start({ kind: "ok", tokens: 200, interTokenMs: 50 });
    const started = new Set<number>();
    const streams: Promise<SseAnswer>[] = Array.from({ length: 10 }, (_, i) =>
      streamChat(gw.url, chatBody("solo"), { timeoutMs: 10_000, onEvent: (n) => n >= 3 && started.add(i) }),
    );
    await eventually(() => started.size === 10, 10_000);
    const killedAt = performance.now();
    await dying.kill();
    const answers = await Promise.all(streams);

    for (const answer of answers) {
      expect(answer.status).toBe(200);
      // A clean end of the HTTP body (not a reset, not a body timeout)…
      expect(answer.transportError).toBeNull();
      // …whose last event says what happened, and no [DONE] pretending it finished.
      expect(answer.done).toBe(false);
      expect(answer.error).toEqual({ message: "The upstream stream was interrupted.", type: "server_error", param: null, code: "upstream_stream_interrupted" });
      expect(answer.events.at(-1)).toContain('"error"');
      expect(answer.content.length).toBeGreaterThan(0);
      expect(answer.content.length).toBeLessThan(FULL_ANSWER.length * 20);
    }
    expect(performance.now() - killedAt).toBeLessThan(5_000);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain('aigw_streams_interrupted_total{model="solo",target="dying"} 10');
  });

  it("surfaces the interruption to the OpenAI SDK as an APIError, not a silent truncation", async () => {
    await start({ kind: "ok", tokens: 200, interTokenMs: 50 });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "solo", messages: [{ role: "user", content: "hi" }], stream: true });
    let chunks = 0;
    const consumed = (async () => {
      for await (const chunk of stream) {
        chunks++;
        if (chunks === 3) void dying.kill();
        expect(chunk.object).toBe("chat.completion.chunk");
      }
    })();
    await expect(consumed).rejects.toMatchObject({ name: "Error", message: expect.stringContaining("The upstream stream was interrupted.") });
    await expect(consumed).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(chunks).toBeGreaterThanOrEqual(3);
  });

  it("keeps serving on the survivor once the dead target refuses connections", async () => {
    await start({ kind: "ok", tokens: 10 });
    await dying.kill();
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => postJson(gw.url, "/v1/chat/completions", chatBody("pair"))),
      ...Array.from({ length: 10 }, () => streamChat(gw.url, chatBody("pair"))),
    ]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const solo = await postJson(gw.url, "/v1/chat/completions", chatBody("solo"));
    expect(solo.status).toBe(502);
    expect(JSON.parse(solo.text)).toMatchObject({ error: { type: "server_error", code: "upstream_error" } });
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
