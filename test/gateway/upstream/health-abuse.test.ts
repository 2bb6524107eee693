/**
 * One client (or one upstream's word) cannot take a target or a replica out: Retry-After
 * cooldowns are capped and end when an active check passes, rate-limited targets do not fail
 * readiness, a client's long generation hitting its timeout does not count toward passive
 * ejection, and by default one unservable model leaves /readyz ready.
 */
import { chat } from "../../helpers/http-client";
import { eventually } from "../../helpers/gateway-harness";
import { serverFixture } from "../../helpers/fixture";

describe("readiness and passive health under hostile traffic", () => {
  const servers = serverFixture();

  it("an upstream's 429 with retry-after: 86400 keeps /readyz up and the target serves again within maxRetryAfterMs", async () => {
    const limited = await servers.upstream("limited", (_req, i) => (i === 0 ? { kind: "status", status: 429, headers: { "retry-after": "86400" } } : { kind: "ok" }));
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: limited.baseUrl }] }], { passiveHealth: { maxRetryAfterMs: 500 } });
    const first = await chat(servers.gw.url, { model: "m" });
    expect(first.status).toBe(429);
    // The client is told the capped wait, not the upstream's day.
    expect(Number(first.headers.get("retry-after"))).toBeLessThanOrEqual(1);
    expect((await fetch(`${servers.gw.url}/readyz`)).status).toBe(200);
    await eventually(async () => (await chat(servers.gw.url, { model: "m" })).status === 200, 10_000, 50);
    expect(limited.completions.length).toBeGreaterThanOrEqual(2);
  });

  it("a passing active health check ends a Retry-After cooldown early", async () => {
    const limited = await servers.upstream("limited", (_req, i) => (i === 0 ? { kind: "status", status: 429, headers: { "retry-after": "86400" } } : { kind: "ok" }));
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: limited.baseUrl }] }], { healthCheck: { enabled: true, intervalMs: 100, rise: 1, fall: 3 } });
    expect((await chat(servers.gw.url, { model: "m" })).status).toBe(429);
    // The default cap is 60 s: only the passing check can bring it back within this wait.
    await eventually(async () => (await chat(servers.gw.url, { model: "m" })).status === 200, 10_000, 50);
  });

  it("a slow generation that hits its timeout does not eject the target", async () => {
    const slow = await servers.upstream("slow", (_req, i) => (i === 0 ? { kind: "ok", latencyMs: 3_000 } : { kind: "ok" }));
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: slow.baseUrl, timeoutMs: 300 }] }], { passiveHealth: { failures: 1, cooldownMs: 60_000 } });
    expect((await chat(servers.gw.url, { model: "m" })).status).toBe(504);
    const next = await chat(servers.gw.url, { model: "m" });
    expect(next.status).toBe(200);
    expect((await fetch(`${servers.gw.url}/readyz`)).status).toBe(200);
    expect(servers.gw.logs().filter((l) => l.msg === "target ejected after consecutive failures")).toEqual([]);
  });

  it("still ejects a target that resets connections or answers 5xx", async () => {
    const reset = await servers.upstream("reset", { kind: "reset" });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: reset.baseUrl }] }], { passiveHealth: { failures: 1, cooldownMs: 60_000 } });
    expect((await chat(servers.gw.url, { model: "m" })).status).toBe(502);
    expect((await chat(servers.gw.url, { model: "m" })).status).toBe(503);
    expect(reset.completions).toHaveLength(1);
  });

  it("by default, one model without a usable target leaves /readyz ready while another is servable", async () => {
    const down = await servers.upstream("down", { kind: "status", status: 503 });
    await servers.gateway(
      [
        { name: "broken", targets: [{ name: "down", baseUrl: down.baseUrl }] },
        { name: "fine", targets: [{ name: "mock", baseUrl: "mock://fine" }] },
      ],
      { passiveHealth: { failures: 1, cooldownMs: 60_000 } },
    );
    expect((await chat(servers.gw.url, { model: "broken" })).status).toBe(502);
    expect((await chat(servers.gw.url, { model: "broken" })).status).toBe(503);
    expect((await fetch(`${servers.gw.url}/readyz`)).status).toBe(200);
  });
});
