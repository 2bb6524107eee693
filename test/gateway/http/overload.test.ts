/**
 * Overload through HTTP: past `server.overload.maxInFlight`, or while the event loop lags past
 * `maxEventLoopLagMs` (or is never idle, `maxEventLoopUtilization`), new proxied requests get 503 server_overloaded (Anthropic routes: 529
 * overloaded_error) with Retry-After, before authentication and without reaching an upstream;
 * streams already running complete intact; probes keep answering; sheds are counted and logged.
 */
import { connect } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { serverFixture } from "../../helpers/fixture";
import { uploadingClient } from "../../helpers/uploading-client";
import { eventually } from "../../helpers/gateway-harness";
import { HI, chat, json, metricValue, readStream, scrape, sseData } from "../../helpers/http-client";
import { mockToken } from "../../../gateway/src/upstream/mock-responses";

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 0, model: "gpt", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
/** A stream the mock holds after its second event until releaseStreams(). */
const HELD_STREAM = [chunk({ role: "assistant", content: "" }), chunk({ content: "Hello" }), chunk({ content: " world" }), chunk({}, "stop"), "data: [DONE]\n\n"];

function headerOf(headers: unknown, name: string): string | null | undefined {
  if (headers && typeof (headers as Headers).get === "function") return (headers as Headers).get(name);
  return (headers as Record<string, string> | undefined)?.[name];
}

/** The content of an OpenAI SSE stream, and whether it ended with [DONE]. */
function contentOf(text: string): { content: string; done: boolean } {
  const data = sseData(text);
  const content = data
    .filter((d) => d !== "[DONE]")
    .map((d) => (JSON.parse(d) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? "")
    .join("");
  return { content, done: data.at(-1) === "[DONE]" };
}

/** Saturates this process's event loop (the in-process gateway's): `times` stalls of `ms`, each from a timer. */
async function saturateLoop(ms: number, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await stallLoop(ms);
}

/** Blocks this process's event loop for `ms`, from a timer. */
function stallLoop(ms: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // busy: the loop cannot run timers or I/O meanwhile
      }
      resolve();
    }, 0),
  );
}

describe("overload shedding", () => {
  const fx = serverFixture();

  it("past maxInFlight sheds new requests in both dialects, keeps probes, and lets running streams finish intact", async () => {
    const upstream = await fx.upstream("slow", { kind: "sse", chunks: HELD_STREAM, holdAt: 2 });
    const gw = await fx.gateway(
      [
        { name: "gpt", targets: [{ name: "slow", baseUrl: upstream.baseUrl }] },
        { name: "claude", targets: [{ name: "slow", baseUrl: upstream.baseUrl, model: "gpt" }] },
      ],
      { server: { overload: { maxInFlight: 3, retryAfterSeconds: 2 } } },
    );
    const running = await Promise.all([0, 1, 2].map(() => chat(gw.url, { model: "gpt", stream: true })));
    for (const res of running) expect(res.status).toBe(200);
    const bodies = running.map((res) => readStream(res));

    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const openaiError = await openai.chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "hi" }] }).catch((err: unknown) => err);
    expect(openaiError).toBeInstanceOf(OpenAI.APIError);
    const oe = openaiError as InstanceType<typeof OpenAI.APIError>;
    expect(oe.status).toBe(503);
    expect(oe.code).toBe("server_overloaded");
    expect(oe.type).toBe("server_error");
    expect(headerOf(oe.headers, "retry-after")).toBe("2");

    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const anthropicError = await anthropic.messages.create({ model: "claude", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((err: unknown) => err);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    const ae = anthropicError as InstanceType<typeof Anthropic.APIError>;
    // Anthropic's own status for overloaded_error (the SDKs back off and retry on it).
    expect(ae.status).toBe(529);
    expect((ae.error as { error?: { type?: string } }).error?.type).toBe("overloaded_error");
    expect(headerOf(ae.headers, "retry-after")).toBe("2");

    // Shed before authentication and the body: nothing reached the upstream; a small body keeps the connection.
    const plain = await chat(gw.url, { model: "gpt" });
    expect(plain.status).toBe(503);
    expect(plain.headers.get("connection")).not.toBe("close");
    expect((await json(plain)).error.code).toBe("server_overloaded");
    expect(upstream.completions).toHaveLength(3);

    // A client still sending a large body reads its 503 (a lingering close, not a reset).
    const raw = await uploadingClient(Number(new URL(gw.url).port));
    expect(raw).toMatch(/^HTTP\/1\.1 503 /);
    expect(raw).toMatch(/\r\nconnection: close\r\n/i);
    expect(raw).toMatch(/\r\nretry-after: 2\r\n/i);

    for (const path of ["/healthz", "/readyz", "/metrics"]) expect((await fetch(`${gw.url}${path}`)).status).toBe(200);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "in_flight" })).toBe(4);
    expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "event_loop_lag" })).toBe(0);
    expect(metricValue(metrics, "aigw_inflight_requests")).toBe(3);

    upstream.releaseStreams();
    for (const text of await Promise.all(bodies)) expect(contentOf(text)).toEqual({ content: "Hello world", done: true });
    const after = await chat(gw.url, { model: "gpt", stream: true });
    expect(after.status).toBe(200);
    expect(contentOf(await readStream(after)).done).toBe(true);

    const shedLines = gw.logs().filter((line) => line.msg === "request" && line.refusal === "in_flight");
    expect(shedLines).toHaveLength(4);
    expect(shedLines.map((line) => line.status).sort()).toEqual([503, 503, 503, 529]);
    for (const line of shedLines) expect(line).toMatchObject({ errorCode: "server_overloaded", attempts: 0 });
  });

  it("sheds before authentication: a shed request is never counted as a bad key", async () => {
    const upstream = await fx.upstream("slow", { kind: "sse", chunks: HELD_STREAM, holdAt: 2 });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "slow", baseUrl: upstream.baseUrl }] }], {
      server: { overload: { maxInFlight: 1 } },
      keys: [{ name: "app", key: "sk-app-key-123456" }],
      auth: { required: true },
    });
    const running = await chat(gw.url, { model: "gpt", stream: true }, { authorization: "Bearer sk-app-key-123456" });
    expect(running.status).toBe(200);
    const shed = await chat(gw.url, { model: "gpt" }, { authorization: "Bearer sk-wrong-key-000000" });
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_rejections_total", { reason: "invalid_key" })).toBeNull();
    upstream.releaseStreams();
    expect(contentOf(await readStream(running))).toEqual({ content: "Hello world", done: true });
  });

  it("sheds while the event loop lags, admits again once it has stayed calm, and never cuts a running stream", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok", tokens: 100, interTokenMs: 20 });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], { server: { overload: { maxEventLoopLagMs: 200 } } });
    const running = await chat(gw.url, { model: "gpt", stream: true });
    expect(running.status).toBe(200);
    const body = readStream(running);

    // One stall is a GC pause, not saturation: nothing is shed.
    await stallLoop(400);
    const afterSpike = await chat(gw.url, { model: "gpt" });
    expect(afterSpike.status).toBe(200);
    await afterSpike.arrayBuffer();

    await saturateLoop(400, 3);
    const calmFrom = performance.now();
    const shed = await chat(gw.url, { model: "gpt" });
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    expect((await json(shed)).error).toMatchObject({ type: "server_error", code: "server_overloaded" });
    for (const path of ["/healthz", "/readyz"]) expect((await fetch(`${gw.url}${path}`)).status).toBe(200);

    // Admitted again only after a second of calm samples (hysteresis); bounded above for a loaded machine.
    let admittedAt = 0;
    await eventually(async () => {
      const res = await chat(gw.url, { model: "gpt" });
      await res.arrayBuffer();
      if (res.status !== 200) return false;
      admittedAt = performance.now();
      return true;
    }, 15_000, 100);
    expect(admittedAt - calmFrom).toBeGreaterThanOrEqual(900);

    const text = await body;
    const expected = Array.from({ length: 100 }, (_, i) => mockToken(i)).join("");
    expect(contentOf(text)).toEqual({ content: expected, done: true });
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "event_loop_lag" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "aigw_event_loop_lag_seconds")).not.toBeNull();
    expect(metricValue(metrics, "aigw_streams_interrupted_total")).toBeNull();
    const line = gw.logs().find((l) => l.msg === "request" && l.refusal === "event_loop_lag");
    expect(line).toMatchObject({ status: 503, errorCode: "server_overloaded", route: "chat.completions" });
  });

  it("sheds while the event loop is never idle (maxEventLoopUtilization), then admits again", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok", tokens: 4 });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], { server: { overload: { maxEventLoopUtilization: 0.9 } } });
    // Three seconds of a loop that is busy all the time but never late by much (200 ms stalls).
    await saturateLoop(200, 15);
    const shed = await chat(gw.url, { model: "gpt" });
    expect(shed.status).toBe(503);
    expect((await json(shed)).error.code).toBe("server_overloaded");
    await eventually(async () => {
      const res = await chat(gw.url, { model: "gpt" });
      await res.arrayBuffer();
      return res.status === 200;
    }, 15_000, 200);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "event_loop_utilization" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "aigw_event_loop_utilization")).not.toBeNull();
    expect(gw.logs().find((l) => l.msg === "request" && l.refusal === "event_loop_utilization")).toMatchObject({ status: 503 });
  });

  it("turns each check off with 0, and follows a config reload", async () => {
    const upstream = await fx.upstream("slow", { kind: "sse", chunks: HELD_STREAM, holdAt: 2 });
    const models = [{ name: "gpt", targets: [{ name: "slow", baseUrl: upstream.baseUrl }] }];
    const gw = await fx.gateway(models, { server: { overload: { maxInFlight: 0, maxEventLoopLagMs: 0, maxEventLoopUtilization: 0 } } });
    const running = await Promise.all([0, 1, 2, 3].map(() => chat(gw.url, { model: "gpt", stream: true })));
    for (const res of running) expect(res.status).toBe(200);
    await saturateLoop(400, 3);
    const unlimited = await chat(gw.url, { model: "gpt", stream: true });
    expect(unlimited.status).toBe(200);
    running.push(unlimited);

    const { validateConfig } = await import("../../../gateway/src/config/validate");
    const { testConfig } = await import("../../helpers/gateway-harness");
    const report = gw.gateway.reload(() => validateConfig(testConfig({ models, server: { overload: { maxInFlight: 2, retryAfterSeconds: 5 } } })));
    expect(report.restartNeeded).toEqual([]);
    const shed = await chat(gw.url, { model: "gpt", messages: HI });
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("5");

    upstream.releaseStreams();
    for (const text of await Promise.all(running.map((res) => readStream(res)))) expect(contentOf(text).done).toBe(true);
    // Five streams ended: in flight is back to 0, under the new ceiling of 2.
    const again = await chat(gw.url, { model: "gpt", stream: true });
    expect(again.status).toBe(200);
    expect(contentOf(await readStream(again)).done).toBe(true);
  });
});
