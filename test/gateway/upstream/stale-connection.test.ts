/**
 * A keep-alive connection the upstream dropped as the gateway reused it: retried once on the same
 * target over a new connection, not counted against the target; never after a response byte,
 * never in a loop.
 */
import { chat, json, metricValue, readStream, scrape, sseData } from "../../helpers/http-client";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { StaleUpstream, type StaleAction } from "../../helpers/stale-upstream";

describe("a stale keep-alive connection", () => {
  let upstream: StaleUpstream | null = null;
  let gw: TestGateway | null = null;
  afterEach(async () => {
    await gw?.close();
    await upstream?.stop();
    gw = null;
    upstream = null;
  });

  /** One model, one target, one attempt: a failure has nowhere else to go. */
  async function setup(decide: (index: number, onConnection: number) => StaleAction, failures = 1): Promise<{ up: StaleUpstream; gw: TestGateway }> {
    upstream = await StaleUpstream.start(decide);
    gw = await startTestGateway({
      upstreamDefaults: { maxAttempts: 1 },
      // By default one failure would eject the target: a stale connection must not count as one.
      passiveHealth: { failures },
      models: [{ name: "m", targets: [{ name: "t", baseUrl: upstream.baseUrl }] }],
    });
    return { up: upstream, gw };
  }

  it.each<["close" | "reset"]>([["close"], ["reset"]])("answers 200 when the upstream drops (%s) a reused connection before any byte", async (drop) => {
    // Every connection answers its first request and is dropped on its second, as an idle timeout racing the reuse.
    const { up, gw } = await setup((_index, onConnection) => (onConnection === 1 ? "answer" : drop));
    const first = await chat(gw.url, { model: "m" });
    expect(first.status).toBe(200);
    await first.text();
    const second = await chat(gw.url, { model: "m" }, { "x-request-id": "stale" });
    expect([second.status, second.headers.get("x-gateway-target"), second.headers.get("x-gateway-attempts")]).toEqual([200, "t", "2"]);
    expect((await json(second)).object).toBe("chat.completion");
    // The retry went out on a new connection of its own, which it closes after.
    expect(up.requests.map((r) => [r.onConnection, r.action])).toEqual([[1, "answer"], [2, drop], [1, "answer"]]);
    expect(up.requests[2].connectionHeader).toBe("close");
    expect(up.connections).toBe(2);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_upstream_retries_total", { model: "m", target: "t", reason: "stale_connection" })).toBe(1);
    expect(metricValue(metrics, "aigw_target_up", { model: "m", target: "t" })).toBe(1);
    expect(gw.logs().some((l) => l.msg === "target ejected after consecutive failures")).toBe(false);
    expect(gw.logs().find((l) => l.msg === "request" && l.reqId === "stale")).toMatchObject({ status: 200, attempts: 2 });
    // Later requests keep working (the reused connection is gone, the retry's was closed).
    const third = await chat(gw.url, { model: "m" });
    expect(third.status).toBe(200);
    await third.text();
  });

  it("tries once more, not in a loop, when the upstream resets new connections too", async () => {
    // The first request is answered; every later one, on any connection, is reset on arrival.
    // Two failures eject: the stale reset does not count, its retry's reset and the next request's do.
    const { up, gw } = await setup((index) => (index === 1 ? "answer" : "reset"), 2);
    expect((await chat(gw.url, { model: "m" })).status).toBe(200);
    const second = await chat(gw.url, { model: "m" }, { "x-request-id": "twice" });
    expect([second.status, second.headers.get("x-gateway-attempts")]).toEqual([502, "2"]);
    expect((await json(second)).error.message).toMatch(/ECONNRESET, after 2 attempts/);
    // Reused connection, then one new connection; no third try.
    expect(up.requests.map((r) => r.onConnection)).toEqual([1, 2, 1]);
    expect(gw.logs().some((l) => l.msg === "target ejected after consecutive failures")).toBe(false);
    // A reset on a connection that never answered is the target's: no retry, and it counts.
    const third = await chat(gw.url, { model: "m" }, { "x-request-id": "fresh" });
    expect([third.status, third.headers.get("x-gateway-attempts")]).toEqual([502, "1"]);
    expect(up.requests.map((r) => r.onConnection)).toEqual([1, 2, 1, 1]);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_upstream_retries_total", { model: "m", target: "t", reason: "stale_connection" })).toBe(1);
    expect(gw.logs().find((l) => l.msg === "request" && l.reqId === "twice")).toMatchObject({ status: 502, attempts: 2 });
    expect(gw.logs().find((l) => l.msg === "request" && l.reqId === "fresh")).toMatchObject({ status: 502, attempts: 1 });
    expect(gw.logs().filter((l) => l.msg === "target ejected after consecutive failures")).toHaveLength(1);
  });

  it("does not retry an answer whose headers arrived before the connection closed", async () => {
    const { up, gw } = await setup((_index, onConnection) => (onConnection === 1 ? "answer" : "headers-then-close"));
    expect((await chat(gw.url, { model: "m" })).status).toBe(200);
    const res = await chat(gw.url, { model: "m" });
    expect([res.status, res.headers.get("x-gateway-attempts")]).toEqual([502, "1"]);
    await res.text();
    expect(up.requests.map((r) => r.action)).toEqual(["answer", "headers-then-close"]);
    expect(metricValue(await scrape(gw.url), "aigw_upstream_retries_total", { reason: "stale_connection" })).toBeNull();
  });
});

describe("a stream cut after its first byte on a reused connection", () => {
  let up: MockUpstream;
  let gw: TestGateway;
  afterEach(async () => {
    await gw.close();
    await up.stop();
  });

  it("is not retried: the client sees the stream error", async () => {
    up = await MockUpstream.start("t", (_request, index) => (index === 0 ? { kind: "ok" } : { kind: "cut-stream", afterEvents: 3 }));
    gw = await startTestGateway({ upstreamDefaults: { maxAttempts: 1 }, models: [{ name: "m", targets: [{ name: "t", baseUrl: up.baseUrl }] }] });
    expect((await chat(gw.url, { model: "m" })).status).toBe(200);
    const res = await chat(gw.url, { model: "m", stream: true }, { "x-request-id": "cut" });
    expect(res.status).toBe(200);
    const events = sseData(await readStream(res));
    expect(events).toHaveLength(4);
    expect(JSON.parse(events[3]).error.code).toBe("upstream_stream_interrupted");
    expect(up.completions).toHaveLength(2);
    await eventually(() => gw.logs().some((l) => l.msg === "request" && l.reqId === "cut"));
    expect(gw.logs().find((l) => l.msg === "request" && l.reqId === "cut")).toMatchObject({ attempts: 1 });
    expect(metricValue(await scrape(gw.url), "aigw_upstream_retries_total", { reason: "stale_connection" })).toBeNull();
  });
});
