/**
 * Per-target health checks in a running gateway (issue 12, item 7): providers without
 * `GET /models`, wanting POST or a header, or Anthropic's headers, stay in rotation once their
 * target says how to probe them; every transition logs its reason, and
 * `aigw_target_health_info` carries it.
 */
import { chat, metricValue, scrape } from "../../helpers/http-client";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { PickyUpstream } from "../../helpers/picky-upstream";

describe("per-target health checks", () => {
  let noModels: PickyUpstream;
  let postOnly: PickyUpstream;
  let wantsHeader: PickyUpstream;
  let anthropic: PickyUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    noModels = await PickyUpstream.start({ method: "GET", path: "/v1/health" });
    postOnly = await PickyUpstream.start({ method: "POST", path: "/v1/ping" });
    wantsHeader = await PickyUpstream.start({ method: "GET", path: "/v1/models", headers: { "x-health-token": "let-me-in" } });
    anthropic = await PickyUpstream.start({ method: "GET", path: "/v1/models", headers: { "x-api-key": "sk-ant-probe", "anthropic-version": "2023-06-01" } });
    const fast = { intervalMs: 40, timeoutMs: 1_000, rise: 1, fall: 2 };
    gw = await startTestGateway({
      // The global section stays off: each target switches its own check on.
      healthCheck: { enabled: false },
      models: [
        {
          name: "m",
          targets: [
            { name: "no-models-default", baseUrl: noModels.baseUrl, healthCheck: { enabled: true, ...fast } },
            { name: "no-models-custom", baseUrl: noModels.baseUrl, healthCheck: { enabled: true, path: "/health", ...fast } },
            { name: "post-only", baseUrl: postOnly.baseUrl, healthCheck: { enabled: true, method: "POST", path: "/ping", body: '{"ping":true}', ...fast } },
            { name: "header-missing", baseUrl: wantsHeader.baseUrl, healthCheck: { enabled: true, ...fast } },
            { name: "header-given", baseUrl: wantsHeader.baseUrl, healthCheck: { enabled: true, headers: { "X-Health-Token": "let-me-in" }, ...fast } },
            { name: "expects-404", baseUrl: noModels.baseUrl, healthCheck: { enabled: true, path: "/nothing-here", expectedStatuses: [404], ...fast } },
          ],
        },
        // Probed only here: serving Anthropic's dialect is the translation layer's.
        { name: "claude", targets: [{ name: "anthropic", provider: "anthropic", baseUrl: anthropic.baseUrl.replace(/\/v1$/, ""), apiKey: "sk-ant-probe", healthCheck: { enabled: true, ...fast } }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([noModels, postOnly, wantsHeader, anthropic].map((u) => u.stop()));
  });

  const info = async (target: string) => {
    const text = await scrape(gw.url);
    const line = text.split("\n").find((l) => l.startsWith("aigw_target_health_info{") && l.includes(`target="${target}"`));
    return line === undefined ? null : Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  };

  it("ejects a provider without /models under the default probe, and logs why", async () => {
    await eventually(async () => (await info("no-models-default"))?.state === "down", 5_000, 40);
    expect(await info("no-models-default")).toMatchObject({ state: "down", reason: "status_404" });
    const down = gw.logs().find((l) => l.msg === "target down (active check)" && l.target === "no-models-default");
    expect(down).toMatchObject({ model: "m", up: false, reason: "status_404", status: 404, method: "GET", path: "/models", expected: "2xx" });
    expect(typeof down!.latencyMs).toBe("number");
  });

  it("keeps targets up whose own probe matches their provider: another path, POST with a body, a header, an expected 404, Anthropic's headers", async () => {
    // Two rounds at least, so a target that was going to fail has had the chance.
    await eventually(() => postOnly.probes.length >= 3 && anthropic.probes.length >= 3, 5_000, 40);
    for (const target of ["no-models-custom", "post-only", "header-given", "expects-404", "anthropic"]) {
      const model = target === "anthropic" ? "claude" : "m";
      expect({ target, info: await info(target) }).toEqual({ target, info: { model, target, state: "up", reason: "ok" } });
      expect(metricValue(await scrape(gw.url), "aigw_target_up", { model, target })).toBe(1);
    }
    expect(postOnly.probes.every((p) => p.method === "POST" && p.body === '{"ping":true}' && p.headers["content-type"] === "application/json")).toBe(true);
    const anthropicProbe = anthropic.probes[0];
    expect([anthropicProbe.method, anthropicProbe.headers["x-api-key"], anthropicProbe.headers["anthropic-version"], anthropicProbe.headers.authorization]).toEqual(["GET", "sk-ant-probe", "2023-06-01", undefined]);
  });

  it("names the status when a required header is missing", async () => {
    await eventually(async () => (await info("header-missing"))?.state === "down", 5_000, 40);
    expect(await info("header-missing")).toMatchObject({ reason: "status_401" });
  });

  it("routes only to the targets that are up", async () => {
    const served = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await chat(gw.url, { model: "m" });
      expect(res.status).toBe(200);
      served.add(res.headers.get("x-gateway-target")!);
    }
    expect(served.has("no-models-default")).toBe(false);
    expect(served.has("header-missing")).toBe(false);
    expect(served.has("post-only")).toBe(true);
  });

  it("logs the way back up with its latency, and keeps one info series per target", async () => {
    postOnly.failWith = 503;
    await eventually(async () => (await info("post-only"))?.state === "down", 5_000, 40);
    expect(await info("post-only")).toMatchObject({ reason: "status_503" });
    postOnly.failWith = null;
    await eventually(async () => (await info("post-only"))?.state === "up", 5_000, 40);
    const back = gw.logs().find((l) => l.msg === "target back up (active check)" && l.target === "post-only");
    expect(back).toMatchObject({ up: true, reason: "ok", status: 200, method: "POST", path: "/ping" });
    const series = (await scrape(gw.url)).split("\n").filter((l) => l.startsWith("aigw_target_health_info{") && l.includes('target="post-only"'));
    expect(series).toHaveLength(1);
  });
});
