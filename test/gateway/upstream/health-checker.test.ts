/** Active health checks: probes with the target's key, rise/fall, skipping, /readyz and aigw_target_up. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { chat, json, metricValue, scrape } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { validateConfig } from "../../../gateway/src/config/validate";
import { createLogger } from "../../../gateway/src/log";
import { Router } from "../../../gateway/src/routing/router";
import { Dispatchers } from "../../../gateway/src/upstream/dispatchers";
import { HealthChecker, probe } from "../../../gateway/src/upstream/health-checker";
import { expectedStatusMatcher } from "../../../gateway/src/upstream/health-probe-spec";
import { prepareTarget, type PreparedTarget } from "../../../gateway/src/upstream/prepared-target";

/** The probe a target gets with no per-target settings: GET, any 2xx. */
function getProbe(target: PreparedTarget, path: string, timeoutMs: number) {
  return { method: "GET" as const, path, headers: target.probeHeaders, body: null, expects: expectedStatusMatcher(undefined), timeoutMs };
}

describe("HealthChecker rounds", () => {
  let upstream: MockUpstream;
  let silent: Server;
  let dispatchers: Dispatchers;
  let targets: PreparedTarget[];
  let checker: HealthChecker;
  const logs: string[] = [];
  beforeAll(async () => {
    upstream = await MockUpstream.start("up");
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const config = validateConfig({
      healthCheck: { path: "/models", rise: 2, fall: 3, timeoutMs: 300 },
      models: [{ name: "m", targets: [{ name: "a", baseUrl: upstream.baseUrl, apiKey: "sk-probe-key", headers: { "X-Org": "o1" } }, { name: "mock", baseUrl: "mock://x" }] }],
    });
    dispatchers = new Dispatchers(config.upstreamDefaults);
    targets = new Router(config).allTargets.map((state) => prepareTarget(state, dispatchers, config.upstreamDefaults));
    checker = new HealthChecker(targets, config.healthCheck, createLogger("info", new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) })));
  });
  afterAll(async () => {
    checker.stop();
    await dispatchers.destroy();
    await upstream.stop();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("probes GET {baseUrl}{path} with the target's key and headers", async () => {
    expect((await probe(targets[0], getProbe(targets[0], "/models", 1_000))).passed).toBe(true);
    const seen = upstream.requests.at(-1)!;
    expect([seen.method, seen.path, seen.headers.authorization, seen.headers["x-org"]]).toEqual(["GET", "/v1/models", "Bearer sk-probe-key", "o1"]);
    expect(seen.headers["content-type"]).toBeUndefined();
  });

  it("fails a probe on a non-2xx, a refused connection and a timeout", async () => {
    upstream.healthStatus = 503;
    expect(await probe(targets[0], getProbe(targets[0], "/models", 1_000))).toMatchObject({ passed: false, status: 503, reason: "status_503" });
    upstream.healthStatus = 200;
    const refused = new Dispatchers(validateConfig({ models: [{ name: "x", targets: [{ name: "t", baseUrl: "mock://t" }] }] }).upstreamDefaults);
    const port = (silent.address() as AddressInfo).port;
    const config = validateConfig({ models: [{ name: "x", targets: [{ name: "dead", baseUrl: "http://127.0.0.1:1/v1" }, { name: "silent", baseUrl: `http://127.0.0.1:${port}/v1` }] }] });
    const [dead, hanging] = new Router(config).allTargets.map((s) => prepareTarget(s, refused, config.upstreamDefaults));
    expect(await probe(dead, getProbe(dead, "/models", 1_000))).toMatchObject({ passed: false, status: null, reason: "connect" });
    const hung = await probe(hanging, getProbe(hanging, "/models", 200));
    expect(hung).toMatchObject({ passed: false, status: null, reason: "timeout" });
    expect(hung.latencyMs).toBeGreaterThanOrEqual(190);
    await refused.destroy();
  });

  it("marks a target down after `fall` failed rounds and up after `rise` good ones", async () => {
    const real = targets.filter((t) => !t.state.config.baseUrl.startsWith("mock://"));
    const state = targets[0].state;
    upstream.healthStatus = 500;
    const verdicts: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      await checker.checkAll(real);
      verdicts.push(state.activeUp);
    }
    expect(verdicts).toEqual([true, true, false]);
    const down = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "target down (active check)");
    expect(down).toMatchObject({ model: "m", target: "a", reason: "status_500", status: 500, method: "GET", path: "/models", expected: "2xx" });
    expect(typeof down.latencyMs).toBe("number");
    upstream.healthStatus = 200;
    verdicts.length = 0;
    for (let i = 0; i < 2; i++) {
      await checker.checkAll(real);
      verdicts.push(state.activeUp);
    }
    expect(verdicts).toEqual([false, true]);
    expect(logs.some((l) => l.includes('"target back up (active check)"'))).toBe(true);
  });
});

describe("active health checks in a running gateway", () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    a = await MockUpstream.start("a");
    b = await MockUpstream.start("b");
    gw = await startTestGateway({
      healthCheck: { enabled: true, intervalMs: 40, timeoutMs: 500, rise: 2, fall: 2 },
      models: [
        { name: "m", strategy: "round-robin", targets: [{ name: "a", baseUrl: a.baseUrl }, { name: "b", baseUrl: b.baseUrl }] },
        { name: "only-b", targets: [{ name: "b", baseUrl: b.baseUrl }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  const up = async (model: string, target: string) => metricValue(await scrape(gw.url), "aigw_target_up", { model, target });

  it("checks on its interval and reports every target up", async () => {
    await eventually(() => a.requests.filter((r) => r.method === "GET").length >= 2);
    expect(await up("m", "a")).toBe(1);
    expect(await up("m", "b")).toBe(1);
    expect(metricValue(await scrape(gw.url), "aigw_model_healthy_targets", { model: "m" })).toBe(2);
  });

  it("skips a target that failed its checks, and /readyz stays ready while another serves", async () => {
    a.healthStatus = 500;
    await eventually(async () => (await up("m", "a")) === 0);
    const before = a.completions.length;
    for (let i = 0; i < 6; i++) {
      const res = await chat(gw.url, { model: "m" });
      expect(res.headers.get("x-gateway-target")).toBe("b");
    }
    expect(a.completions.length).toBe(before);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });

  it("fails /readyz and answers 503 when a model has no healthy target", async () => {
    b.healthStatus = 500;
    await eventually(async () => (await fetch(`${gw.url}/readyz`)).status === 503);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(await json(ready)).toEqual({ status: "unavailable", models: ["m", "only-b"] });
    const res = await chat(gw.url, { model: "m" });
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe("no_healthy_upstream");
    expect(metricValue(await scrape(gw.url), "aigw_model_healthy_targets", { model: "m" })).toBe(0);
  });

  it("brings targets back after `rise` good checks", async () => {
    a.healthStatus = 200;
    b.healthStatus = 200;
    await eventually(async () => (await fetch(`${gw.url}/readyz`)).status === 200);
    expect(await up("m", "a")).toBe(1);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add((await chat(gw.url, { model: "m" })).headers.get("x-gateway-target")!);
    expect([...served].sort()).toEqual(["a", "b"]);
  });
});
