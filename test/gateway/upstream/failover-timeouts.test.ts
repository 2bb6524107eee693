/** Failover on timeouts (per attempt and the overall deadline) and 429s (cooling, Retry-After). */
import { chat, json } from "../../helpers/http-client";
import { eventually } from "../../helpers/gateway-harness";
import { serverFixture } from "../../helpers/fixture";

describe("failover on timeouts and rate limits", () => {
  const servers = serverFixture();
  const upstream = servers.upstream;
  const gateway = servers.gateway;


  it("moves on from a target that does not answer within its timeout", async () => {
    const hang = await upstream("hang", { kind: "hang" });
    const good = await upstream("good", { kind: "ok" });
    await gateway([{ name: "m", targets: [{ name: "hang", baseUrl: hang.baseUrl, timeoutMs: 300 }, { name: "good", baseUrl: good.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect([res.status, res.headers.get("x-gateway-target"), res.headers.get("x-gateway-attempts")]).toEqual([200, "good", "2"]);
    expect(hang.completions).toHaveLength(1);
    // The gateway gave up on the hanging request: its connection was closed.
    await eventually(() => hang.abortedByPeer === 1);
  });

  it("answers 504 within the deadline when every target hangs", async () => {
    const hang = await upstream("hang", { kind: "hang" });
    const targets = ["a", "b", "c"].map((name) => ({ name, baseUrl: hang.baseUrl }));
    // 600 ms attempts in a 1.5 s deadline: the third is cut by the deadline; two attempts even with 0.9 s of loop lag.
    await gateway([{ name: "m", targets }], { upstreamDefaults: { timeoutMs: 600, deadlineMs: 1_500 } });
    const started = Date.now();
    const res = await chat(servers.gw.url, { model: "m" }, { "x-request-id": "hang-all" });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect((await json(res)).error).toMatchObject({ type: "server_error", code: "upstream_timeout" });
    // One-sided, generous: the deadline plus scheduling slack, never three 60 s timeouts.
    expect(elapsed).toBeLessThan(1_500 + 2_000);
    expect(hang.completions.length).toBeGreaterThanOrEqual(2);
    const logged = servers.gw.logs().find((l) => l.msg === "request" && l.reqId === "hang-all");
    expect(logged).toMatchObject({ status: 504, attempts: hang.completions.length });
    // The gateway's own clock: neither the attempt timeouts nor the deadline fired early.
    expect(logged?.latencyMs).toBeGreaterThanOrEqual(1_500);
  });

  it("bounds a single long per-attempt timeout by the overall deadline", async () => {
    const hang = await upstream("hang", { kind: "hang" });
    await gateway([{ name: "m", targets: [{ name: "a", baseUrl: hang.baseUrl, timeoutMs: 60_000 }] }], { upstreamDefaults: { deadlineMs: 500 } });
    const started = Date.now();
    const res = await chat(servers.gw.url, { model: "m" }, { "x-request-id": "deadline-500" });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(500 + 2_000);
    expect(servers.gw.logs().find((l) => l.msg === "request" && l.reqId === "deadline-500")?.latencyMs).toBeGreaterThanOrEqual(500);
  });

  it("cools a 429 target down for its Retry-After and serves from the others", async () => {
    const limited = await upstream("limited", (_req, i) => (i === 0 ? { kind: "status", status: 429, headers: { "retry-after": "30" } } : { kind: "ok" }));
    const other = await upstream("other", { kind: "ok" });
    await gateway([{ name: "m", strategy: "round-robin", targets: [{ name: "limited", baseUrl: limited.baseUrl }, { name: "other", baseUrl: other.baseUrl }] }]);
    const first = await chat(servers.gw.url, { model: "m" });
    expect([first.status, first.headers.get("x-gateway-target"), first.headers.get("x-gateway-attempts")]).toEqual([200, "other", "2"]);
    for (let i = 0; i < 6; i++) expect((await chat(servers.gw.url, { model: "m" })).headers.get("x-gateway-target")).toBe("other");
    expect(limited.completions).toHaveLength(1);
  });

  it("comes back to a 429 target once its retry-after-ms has passed", async () => {
    const limited = await upstream("limited", (_req, i) => (i === 0 ? { kind: "status", status: 429, headers: { "retry-after-ms": "300" } } : { kind: "ok" }));
    const other = await upstream("other", { kind: "ok" });
    await gateway([{ name: "m", strategy: "round-robin", targets: [{ name: "limited", baseUrl: limited.baseUrl }, { name: "other", baseUrl: other.baseUrl }] }]);
    expect((await chat(servers.gw.url, { model: "m" })).headers.get("x-gateway-target")).toBe("other");
    const seen = new Set<string>();
    await eventually(async () => {
      const res = await chat(servers.gw.url, { model: "m" });
      seen.add(res.headers.get("x-gateway-target")!);
      return seen.has("limited");
    }, 5_000, 50);
    expect(limited.completions.length).toBeGreaterThanOrEqual(2);
  });

  it("does not eject a target for 429s (rate limits are not faults)", async () => {
    const limited = await upstream("limited", { kind: "status", status: 429, headers: { "retry-after-ms": "0" } });
    await gateway([{ name: "m", targets: [{ name: "a", baseUrl: limited.baseUrl }] }], { passiveHealth: { failures: 1, cooldownMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await chat(servers.gw.url, { model: "m" })).status).toBe(429);
    expect(limited.completions).toHaveLength(3);
  });

  it("answers 429 with Retry-After when every target is rate limited", async () => {
    const limited = await upstream("limited", { kind: "status", status: 429, headers: { "retry-after": "7" } });
    await gateway([{ name: "m", targets: [{ name: "a", baseUrl: limited.baseUrl }, { name: "b", baseUrl: limited.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.headers.get("x-gateway-attempts")).toBe("2");
    expect((await json(res)).error).toMatchObject({ type: "rate_limit_error", code: "upstream_rate_limited" });
    // Both now cool down: the next request finds nothing healthy and touches no upstream.
    expect((await chat(servers.gw.url, { model: "m" })).status).toBe(503);
    expect(limited.completions).toHaveLength(2);
  });
});
