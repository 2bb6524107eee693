/**
 * Spend and latency metrics: key and team labels bounded by the configured keys (runtime keys up
 * to a ceiling, then `other`), a deleted key's series removed, the status class on the request
 * duration (refusals apart, an interrupted stream as 5xx) and buckets up to the longest request.
 */
import { KeyLabels } from "../../../gateway/src/metrics/key-labels";
import { GatewayMetrics, requestDurationBuckets } from "../../../gateway/src/metrics/registry";
import { statusClassOf } from "../../../gateway/src/handlers/request-record";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { metricValue, scrape } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";

describe("key and team labels", () => {
  it("give config keys their own series, runtime keys up to the ceiling, the rest `other`", () => {
    const labels = new KeyLabels(new Map([["web", "frontend"]]), new Set(["frontend"]), 2);
    expect(labels.of(null)).toEqual(["", ""]);
    expect(labels.of({ keyName: "web", team: "frontend" })).toEqual(["web", "frontend"]);
    expect(labels.of({ keyName: "r1", team: "lab" })).toEqual(["r1", "lab"]);
    expect(labels.of({ keyName: "r2", team: "frontend" })).toEqual(["r2", "frontend"]);
    expect(labels.of({ keyName: "r3", team: "lab" })).toEqual(["other", "other"]);
    expect(labels.of({ keyName: "r1", team: "lab" })).toEqual(["r1", "lab"]);
  });

  it("remove a forgotten key's series and give its slot back", async () => {
    const metrics = new GatewayMetrics();
    const labels = new KeyLabels(new Map(), new Set(), 1, (key, team) => metrics.forgetKey(key, team));
    const [key, team] = labels.of({ keyName: "temp", team: "lab" });
    metrics.requestsFor("chat.completions", "m", "t", "200", key, team).inc();
    metrics.spendFor(key, team, "m").inc(0.5);
    metrics.tokensFor("m", "prompt", key, team).inc(10);
    metrics.budgetUsedRatio.set({ key, team }, 0.3);
    metrics.spendFor("kept", "lab", "m").inc(1);
    expect((await metrics.render()).body).toContain('key="temp"');
    labels.forget("temp");
    const after = (await metrics.render()).body;
    expect(after).not.toContain('key="temp"');
    expect(metricValue(after, "aigw_spend_usd_total", { key: "kept" })).toBe(1);
    expect(labels.of({ keyName: "next", team: "lab" })).toEqual(["next", "lab"]);
  });
});

describe("request duration", () => {
  it("classes statuses, refusals apart and interrupted streams as errors", () => {
    expect(statusClassOf(200, false, false)).toBe("2xx");
    expect(statusClassOf(200, false, true)).toBe("5xx");
    expect(statusClassOf(429, true, false)).toBe("refused");
    expect(statusClassOf(401, true, false)).toBe("refused");
    expect(statusClassOf(404, false, false)).toBe("4xx");
    expect(statusClassOf(499, false, false)).toBe("4xx");
    expect(statusClassOf(503, true, false)).toBe("5xx");
  });

  it("has buckets up to the longest request", () => {
    const buckets = requestDurationBuckets(720);
    expect(buckets.slice(-4)).toEqual([180, 300, 600, 720]);
    expect(requestDurationBuckets(600).slice(-2)).toEqual([300, 600]);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
  });

  describe("over HTTP", () => {
    let upstream: MockUpstream;
    let gw: TestGateway;
    beforeAll(async () => {
      upstream = await MockUpstream.start("up", { kind: "ok", tokens: 3 });
      gw = await startTestGateway({
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        keys: [{ name: "k", key: "sk-duration-key-1", limits: { requestsPerMinute: 1 } }],
        upstreamDefaults: { maxStreamMs: 900_000, deadlineMs: 60_000 },
      });
    });
    afterAll(async () => {
      await gw.close();
      await upstream.stop();
    });

    it("labels served and refused requests apart, with buckets past 10 minutes", async () => {
      const post = (model: string, stream = false) =>
        fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer sk-duration-key-1", "content-type": "application/json" }, body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }) }).then(async (r) => [r.status, await r.text()] as const);
      expect((await post("m"))[0]).toBe(200);
      expect((await post("m"))[0]).toBe(429);
      const text = await scrape(gw.url);
      expect(metricValue(text, "aigw_request_duration_seconds_count", { model: "m", status: "2xx" })).toBe(1);
      // Refused before its body was read (over its rate): the model is not known yet.
      expect(metricValue(text, "aigw_request_duration_seconds_count", { model: "", status: "refused" })).toBe(1);
      expect(text).toContain('aigw_request_duration_seconds_bucket{le="960",route="chat.completions",model="m",status="2xx"} 1');
      expect(metricValue(text, "aigw_requests_total", { model: "", status: "429", key: "k", team: "default" })).toBe(1);
      expect(metricValue(text, "aigw_requests_total", { model: "m", status: "200", key: "k", team: "default" })).toBe(1);
    });
  });
});
