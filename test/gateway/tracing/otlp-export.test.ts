/**
 * Optional OpenTelemetry tracing (issue 12, item 8) against a real OTLP/HTTP collector: spans for
 * the request, admission, each upstream attempt and the stream, joined to the caller's trace; and
 * a collector that is down, refusing or hanging never fails or slows a request.
 */
import { chat, metricValue, readStream, scrape } from "../../helpers/http-client";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { OtlpCollector, type CollectedSpan } from "../../helpers/otlp-collector";
import { parseTraceparent } from "../../../gateway/src/tracing/trace-context";
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const CLIENT_KEY = "sk-client-tracing-0001";

describe("OTLP tracing", () => {
  let collector: OtlpCollector;
  let broken: MockUpstream;
  let good: MockUpstream;
  const gateways: TestGateway[] = [];
  beforeEach(async () => {
    collector = await OtlpCollector.start();
    broken = await MockUpstream.start("broken", { kind: "status", status: 500 });
    good = await MockUpstream.start("good", { kind: "ok", tokens: 4 });
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await Promise.all([collector.stop(), broken.stop(), good.stop()]);
  });

  async function gateway(tracing: GatewayConfigInput["tracing"], extra: Partial<GatewayConfigInput> = {}): Promise<TestGateway> {
    const gw = await startTestGateway({
      tracing,
      keys: [{ name: "app", key: CLIENT_KEY }],
      models: [{ name: "m", targets: [{ name: "broken", baseUrl: broken.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }],
      ...extra,
    });
    gateways.push(gw);
    return gw;
  }
  const auth = { authorization: `Bearer ${CLIENT_KEY}` };

  it("exports the request, admission, each attempt and the stream as one trace joined to the caller's", async () => {
    const gw = await gateway({ enabled: true, endpoint: collector.endpoint, flushIntervalMs: 50, serviceName: "gw-test", headers: { authorization: "Bearer collector-token" } });
    const res = await chat(gw.url, { model: "m", stream: true }, { ...auth, traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(res.status).toBe(200);
    await readStream(res);
    await eventually(() => collector.spans.some((s) => s.kind === 2), 5_000, 25);
    const spans = collector.spans.filter((s) => s.traceId === TRACE);
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const [server] = byName("POST chat.completions");
    expect([server.kind, server.parentSpanId, OtlpCollector.attr(server, "http.response.status_code"), OtlpCollector.attr(server, "aigw.target"), OtlpCollector.attr(server, "aigw.key")]).toEqual([2, PARENT, "200", "good", "app"]);
    const [admission] = byName("admission");
    expect(admission.parentSpanId).toBe(server.spanId);
    const attempts = byName("upstream attempt").sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
    expect(attempts.map((a) => [a.kind, a.parentSpanId, OtlpCollector.attr(a, "aigw.target"), OtlpCollector.attr(a, "http.response.status_code"), a.status.code ?? 0])).toEqual([
      [3, server.spanId, "broken", "500", 2],
      [3, server.spanId, "good", "200", 0],
    ]);
    // Each upstream saw its own attempt span as the parent: the provider's spans hang under it.
    expect(parseTraceparent(broken.completions[0].headers.traceparent)!.parentSpanId).toBe(attempts[0].spanId);
    expect(parseTraceparent(good.completions[0].headers.traceparent)!.parentSpanId).toBe(attempts[1].spanId);
    const [stream] = byName("stream");
    expect([stream.parentSpanId, OtlpCollector.attr(stream, "gen_ai.usage.output_tokens")]).toEqual([server.spanId, "4"]);
    // Times nest: the server span covers the others.
    for (const child of [admission, ...attempts, stream]) {
      expect(BigInt(child.startTimeUnixNano) >= BigInt(server.startTimeUnixNano)).toBe(true);
      expect(BigInt(child.endTimeUnixNano) <= BigInt(server.endTimeUnixNano)).toBe(true);
    }
    expect(collector.exports[0]).toMatchObject({ serviceName: "gw-test", headers: { authorization: "Bearer collector-token", "content-type": "application/json" } });
    expect(metricValue(await scrape(gw.url), "aigw_tracing_spans_total", { result: "exported" })).toBeGreaterThanOrEqual(5);
  });

  it("records nothing for a caller's unsampled trace, and samples new traces by sampleRatio", async () => {
    const gw = await gateway({ enabled: true, endpoint: collector.endpoint, flushIntervalMs: 50, sampleRatio: 0 });
    expect((await chat(gw.url, { model: "m" }, { ...auth, traceparent: `00-${TRACE}-${PARENT}-00` })).status).toBe(200);
    expect((await chat(gw.url, { model: "m" }, auth)).status).toBe(200);
    expect((await chat(gw.url, { model: "m" }, { ...auth, traceparent: `00-${"a".repeat(32)}-${PARENT}-01` })).status).toBe(200);
    await eventually(() => collector.spans.length > 0, 5_000, 25);
    await new Promise((r) => setTimeout(r, 200));
    expect([...new Set(collector.spans.map((s) => s.traceId))]).toEqual(["a".repeat(32)]);
    expect(parseTraceparent(good.completions[0].headers.traceparent)).toMatchObject({ traceId: TRACE, sampled: false });
  });

  it("serves every request when the collector is down, counting the lost spans and warning once", async () => {
    const endpoint = collector.endpoint;
    await collector.stop();
    collector = await OtlpCollector.start(); // for afterEach; the gateway points at the dead port
    const gw = await gateway({ enabled: true, endpoint, flushIntervalMs: 20, exportTimeoutMs: 500 });
    for (let i = 0; i < 10; i++) expect((await chat(gw.url, { model: "m" }, auth)).status).toBe(200);
    await eventually(async () => (metricValue(await scrape(gw.url), "aigw_tracing_spans_total", { result: "failed" }) ?? 0) > 0, 5_000, 25);
    expect(gw.logs().filter((l) => l.msg === "tracing: exporting a batch failed")).toHaveLength(1);
  });

  it("never slows a request while the collector hangs: the queue stays bounded and drops, then recovers", async () => {
    collector.mode = "hang";
    const gw = await gateway({ enabled: true, endpoint: collector.endpoint, flushIntervalMs: 20, exportTimeoutMs: 4_000, maxQueueSpans: 8, maxBatchSpans: 4 });
    for (let i = 0; i < 20; i++) expect((await chat(gw.url, { model: "m" }, auth)).status).toBe(200);
    // The gateway's own timing: a request that waited for the hung export would take its 4 s timeout.
    const latencies = gw.logs().filter((l) => l.msg === "request").map((l) => l.latencyMs as number);
    expect(latencies).toHaveLength(20);
    expect(Math.max(...latencies)).toBeLessThan(2_000);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_tracing_spans_total", { result: "dropped" })).toBeGreaterThan(0);
    collector.mode = "ok";
    await eventually(async () => (metricValue(await scrape(gw.url), "aigw_tracing_spans_total", { result: "failed" }) ?? 0) > 0, 10_000, 25);
    expect((await chat(gw.url, { model: "m" }, { ...auth, traceparent: `00-${TRACE}-${PARENT}-01` })).status).toBe(200);
    await eventually(() => collector.spans.some((s: CollectedSpan) => s.traceId === TRACE && s.kind === 2), 5_000, 25);
  });

  it("exports what is queued when the gateway shuts down", async () => {
    const gw = await gateway({ enabled: true, endpoint: collector.endpoint, flushIntervalMs: 60_000 });
    expect((await chat(gw.url, { model: "m" }, { ...auth, traceparent: `00-${TRACE}-${PARENT}-01` })).status).toBe(200);
    expect(collector.spans).toHaveLength(0);
    await gw.close();
    expect(collector.spans.filter((s) => s.traceId === TRACE).map((s) => s.name).sort()).toEqual(["POST chat.completions", "admission", "upstream attempt", "upstream attempt"]);
  });

  it("refuses tracing switched on without an endpoint", async () => {
    await expect(gateway({ enabled: true })).rejects.toThrow(/tracing\.endpoint: tracing\.enabled needs tracing\.endpoint/);
  });
});
