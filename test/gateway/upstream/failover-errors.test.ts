/** Failover on connect errors, resets, 5xx and garbage; pass-through of other statuses; fallback models. */
import { chat, metricValue, scrape, json } from "../../helpers/http-client";
import { MockUpstream, type Behavior } from "../../helpers/mock-upstream";
import { serverFixture } from "../../helpers/fixture";

describe("failover", () => {
  const servers = serverFixture();
  const upstream = servers.upstream;
  const gateway = servers.gateway;

  /** A base URL nothing listens on. */
  async function deadUrl(): Promise<string> {
    const u = await MockUpstream.start("dead");
    const url = u.baseUrl;
    await u.stop();
    return url;
  }


  it("moves on from a refused connection", async () => {
    const good = await upstream("good", { kind: "ok" });
    await gateway([{ name: "m", targets: [{ name: "dead", baseUrl: await deadUrl() }, { name: "good", baseUrl: good.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-attempts")).toBe("2");
    expect(res.headers.get("x-gateway-target")).toBe("good");
    expect(metricValue(await scrape(servers.gw.url), "aigw_upstream_retries_total", { target: "dead", reason: "connect" })).toBe(1);
  });

  it("moves on from a connection reset mid-request", async () => {
    const reset = await upstream("reset", { kind: "reset" });
    const good = await upstream("good", { kind: "ok" });
    await gateway([{ name: "m", targets: [{ name: "reset", baseUrl: reset.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect([res.status, res.headers.get("x-gateway-target"), res.headers.get("x-gateway-attempts")]).toEqual([200, "good", "2"]);
    expect(reset.completions).toHaveLength(1);
  });

  it.each([500, 502, 503, 504])("moves on from a %i", async (status) => {
    const bad = await upstream("bad", { kind: "status", status });
    const good = await upstream("good", { kind: "ok" });
    await gateway([{ name: "m", targets: [{ name: "bad", baseUrl: bad.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect([res.status, res.headers.get("x-gateway-target"), res.headers.get("x-gateway-attempts")]).toEqual([200, "good", "2"]);
    expect(metricValue(await scrape(servers.gw.url), "aigw_upstream_retries_total", { target: "bad", reason: "status_5xx" })).toBe(1);
  });

  it.each<[string, Behavior]>([
    ["HTML", { kind: "garbage", body: "<html>Bad Gateway</html>", contentType: "text/html" }],
    ["truncated JSON", { kind: "garbage", body: '{"choices":[', contentType: "application/json" }],
    ["a JSON array", { kind: "garbage", body: "[]", contentType: "application/json" }],
  ])("moves on from a 200 with %s, and answers 502 when every target does it", async (_what, garbage) => {
    const bad = await upstream("bad", garbage);
    const good = await upstream("good", { kind: "ok" });
    await gateway([
      { name: "m", targets: [{ name: "bad", baseUrl: bad.baseUrl }, { name: "good", baseUrl: good.baseUrl }] },
      { name: "only-bad", targets: [{ name: "bad", baseUrl: bad.baseUrl }] },
    ]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect([res.status, res.headers.get("x-gateway-target")]).toEqual([200, "good"]);
    const failed = await chat(servers.gw.url, { model: "only-bad" });
    expect(failed.status).toBe(502);
    expect((await json(failed)).error).toMatchObject({ type: "server_error", code: "upstream_invalid_response" });
  });

  it.each([400, 404, 409, 422])("passes a %i through unchanged, without trying another target (401/403: upstream-auth.test.ts)", async (status) => {
    const body = JSON.stringify({ error: { message: `upstream says ${status}`, type: "invalid_request_error", param: "messages", code: `code_${status}` } });
    const picky = await upstream("picky", { kind: "status", status, body });
    const other = await upstream("other", { kind: "ok" });
    await gateway([{ name: "m", targets: [{ name: "picky", baseUrl: picky.baseUrl }, { name: "other", baseUrl: other.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect([res.headers.get("x-gateway-target"), res.headers.get("x-gateway-attempts")]).toEqual(["picky", "1"]);
    expect(other.completions).toHaveLength(0);
  });

  it("tries the fallback models, in order, once every target failed", async () => {
    const down = await upstream("down", { kind: "status", status: 503 });
    const alsoDown = await upstream("also-down", { kind: "status", status: 500 });
    const rescue = await upstream("rescue", { kind: "ok" });
    await gateway([
      { name: "main", fallbacks: ["second", "third"], targets: [{ name: "d1", baseUrl: down.baseUrl }, { name: "d2", baseUrl: down.baseUrl }] },
      { name: "second", targets: [{ name: "d3", baseUrl: alsoDown.baseUrl }] },
      { name: "third", targets: [{ name: "r", baseUrl: rescue.baseUrl, model: "rescue-upstream" }] },
    ]);
    const res = await chat(servers.gw.url, { model: "main" });
    expect(res.status).toBe(200);
    expect([res.headers.get("x-gateway-attempts"), res.headers.get("x-gateway-target"), res.headers.get("x-gateway-model")]).toEqual(["4", "r", "third"]);
    expect([down.completions.length, alsoDown.completions.length, rescue.completions.length]).toEqual([2, 1, 1]);
    expect(rescue.completions[0].json?.model).toBe("rescue-upstream");
  });

  it("answers 502 with the attempt count once targets and fallbacks are exhausted", async () => {
    const down = await upstream("down", { kind: "status", status: 500 });
    await gateway([
      { name: "main", fallbacks: ["spare"], targets: [{ name: "a", baseUrl: down.baseUrl }, { name: "b", baseUrl: down.baseUrl }] },
      { name: "spare", targets: [{ name: "c", baseUrl: down.baseUrl }] },
    ]);
    const res = await chat(servers.gw.url, { model: "main" }, { "x-request-id": "exhausted-1" });
    expect(res.status).toBe(502);
    expect((await json(res)).error).toMatchObject({ type: "server_error", code: "upstream_error", message: expect.stringContaining("after 3 attempts") });
    expect(res.headers.get("x-gateway-attempts")).toBe("3");
    const line = servers.gw.logs().find((l) => l.msg === "request" && l.reqId === "exhausted-1");
    expect(line).toMatchObject({ status: 502, attempts: 3, model: "main" });
  });

  it("stops after maxAttempts targets per model", async () => {
    const down = await upstream("down", { kind: "status", status: 500 });
    const targets = ["a", "b", "c", "d", "e"].map((name) => ({ name, baseUrl: down.baseUrl }));
    await gateway([{ name: "m", targets }], { upstreamDefaults: { maxAttempts: 2 } });
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(502);
    expect(down.completions).toHaveLength(2);
  });

  it("answers 503 when no target is healthy, without calling any upstream", async () => {
    const down = await upstream("down", { kind: "status", status: 500 });
    await gateway([{ name: "m", targets: [{ name: "a", baseUrl: down.baseUrl }] }], { passiveHealth: { failures: 1, cooldownMs: 60_000 } });
    expect((await chat(servers.gw.url, { model: "m" })).status).toBe(502);
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(503);
    expect((await json(res)).error).toMatchObject({ type: "server_error", code: "no_healthy_upstream" });
    expect(res.headers.get("x-gateway-attempts")).toBe("0");
    expect(down.completions).toHaveLength(1);
    expect((await fetch(`${servers.gw.url}/readyz`)).status).toBe(503);
  });

  it("skips a target ejected by consecutive failures (passive health)", async () => {
    const flaky = await upstream("flaky", { kind: "status", status: 500 });
    const good = await upstream("good", { kind: "ok" });
    await gateway([{ name: "m", strategy: "round-robin", targets: [{ name: "flaky", baseUrl: flaky.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }], {
      passiveHealth: { failures: 2, cooldownMs: 60_000 },
    });
    for (let i = 0; i < 10; i++) expect((await chat(servers.gw.url, { model: "m" })).status).toBe(200);
    expect(flaky.completions).toHaveLength(2);
    expect(good.completions).toHaveLength(10);
    expect(metricValue(await scrape(servers.gw.url), "aigw_target_up", { target: "flaky" })).toBe(0);
    expect(servers.gw.logs().filter((l) => l.msg === "target ejected after consecutive failures")).toEqual([expect.objectContaining({ level: "warn", model: "m", target: "flaky", reason: "status_5xx" })]);
  });
});
