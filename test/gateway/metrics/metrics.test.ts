/** Prometheus metrics: every documented name is exported, and traffic moves the right series. */
import { chat, metricValue, readStream, scrape } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { GATEWAY_METRIC_NAMES, METRICS, PROCESS_METRIC_NAMES } from "../../../gateway/src/metrics/names";

describe("metrics", () => {
  let flaky: MockUpstream;
  let gw: TestGateway;
  let text: string;
  beforeAll(async () => {
    flaky = await MockUpstream.start("flaky", (_r, i) => (i === 0 ? { kind: "status", status: 500 } : { kind: "ok", tokens: 3 }));
    gw = await startTestGateway({
      models: [
        { name: "m", strategy: "round-robin", targets: [{ name: "flaky", baseUrl: flaky.baseUrl }, { name: "mock", baseUrl: "mock://m", mock: { tokens: 3 } }] },
      ],
    });
    await (await chat(gw.url, { model: "m" })).text();
    await readStream(await chat(gw.url, { model: "m", stream: true }));
    await (await chat(gw.url, { model: "unknown" })).text();
    text = await scrape(gw.url);
  });
  afterAll(async () => {
    await gw.close();
    await flaky.stop();
  });

  it("names every metric aigw_* with help text and the documented labels", () => {
    for (const def of Object.values(METRICS)) {
      expect(def.name).toMatch(/^aigw_[a-z_]+$/);
      expect(text).toContain(`# HELP ${def.name} ${def.help}`);
    }
    expect(new Set(GATEWAY_METRIC_NAMES).size).toBe(Object.keys(METRICS).length);
  });

  it("exports the process metrics alerts rely on", () => {
    for (const name of PROCESS_METRIC_NAMES) expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, "m"));
  });

  it("counts requests by route, model, final target and status", () => {
    expect(metricValue(text, "aigw_requests_total", { route: "chat.completions", model: "m", target: "mock", status: "200" })).toBe(1);
    expect(metricValue(text, "aigw_requests_total", { route: "chat.completions", model: "m", target: "flaky", status: "200" })).toBe(1);
    // An unknown model is not a label value (bounded cardinality).
    expect(metricValue(text, "aigw_requests_total", { route: "chat.completions", model: "", target: "", status: "404" })).toBe(1);
    expect(text).not.toContain('model="unknown"');
  });

  it("observes request and upstream durations, retries, tokens and TTFT", () => {
    expect(metricValue(text, "aigw_request_duration_seconds_count", { route: "chat.completions", model: "m" })).toBe(2);
    expect(metricValue(text, "aigw_upstream_duration_seconds_count", { model: "m", target: "mock" })).toBe(1);
    expect(metricValue(text, "aigw_upstream_retries_total", { model: "m", target: "flaky", reason: "status_5xx" })).toBe(1);
    expect(metricValue(text, "aigw_tokens_total", { model: "m", kind: "completion" })).toBe(6);
    expect(metricValue(text, "aigw_time_to_first_token_seconds_count", { model: "m" })).toBe(1);
  });

  it("reports health gauges and an idle in-flight gauge", () => {
    expect(metricValue(text, "aigw_target_up", { model: "m", target: "flaky" })).toBe(1);
    expect(metricValue(text, "aigw_target_up", { model: "m", target: "mock" })).toBe(1);
    expect(metricValue(text, "aigw_model_healthy_targets", { model: "m" })).toBe(2);
    expect(metricValue(text, "aigw_inflight_requests")).toBe(0);
  });
});
