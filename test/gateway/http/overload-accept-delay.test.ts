/**
 * Shedding on accept delay through HTTP. A loop whose every turn is long (what a process relaying
 * more than it can looks like) keeps its timers within the lag threshold, so lag shedding never
 * starts, but a new connection waits turns before it is answered: the accept-delay probe sees it
 * and requests on new connections get 503 `server_overloaded` (reason `accept_delay`) with
 * Retry-After and `connection: close`, until the turns are short again; a keep-alive connection
 * already taken keeps being served. A loop that is busy but turns quickly, and keep-alive clients
 * at full speed, shed nothing. The long turns are made here with a busy wait per turn, so the
 * test does not depend on how fast the machine is.
 */
import { Agent } from "node:http";
import { serverFixture } from "../../helpers/fixture";
import { eventually } from "../../helpers/gateway-harness";
import { HI, chat, metricValue, rawRequest, scrape, type RawResponse } from "../../helpers/http-client";

const CHAT_BODY = JSON.stringify({ model: "gpt", messages: HI });

/** One chat completion on a new connection (closed after it), or on `agent`'s kept-alive one. */
function chatOn(url: string, agent: Agent): Promise<RawResponse> {
  return rawRequest(url, { method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json" }, body: CHAT_BODY, agent });
}

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // this turn of the loop is busy
  }
}

/** Makes every turn of this process's loop (the in-process gateway's) at least `ms` long, until stopped. */
function longTurns(ms: number): () => void {
  let on = true;
  const turn = () => {
    if (!on) return;
    busyWait(ms);
    setImmediate(turn);
  };
  setImmediate(turn);
  return () => {
    on = false;
  };
}

describe("shedding on accept delay", () => {
  const fx = serverFixture();

  it("sheds requests on new connections while every turn is long, though the lag stays under its threshold; kept-alive ones go on; then admits again", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok" });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], {
      server: { overload: { maxEventLoopLagMs: 500, maxAcceptDelayMs: 250, retryAfterSeconds: 3 } },
    });
    const fresh = new Agent({ keepAlive: false });
    const kept = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await chatOn(gw.url, kept)).status).toBe(200); // the kept-alive connection, taken while calm

      // 150 ms turns: a timer fires at most ~150 ms late (under 500), a probe needs two turns or more (300 ms+).
      const stop = longTurns(150);
      const statuses: number[] = [];
      let shed: RawResponse | null = null;
      let keptDuringShedding: number | null = null;
      try {
        const until = Date.now() + 15_000;
        while (Date.now() < until && shed === null) {
          const res = await chatOn(gw.url, fresh);
          statuses.push(res.status);
          if (res.status === 503) shed = res;
        }
        if (shed !== null) keptDuringShedding = (await chatOn(gw.url, kept)).status;
      } finally {
        stop();
      }
      expect(shed).not.toBeNull();
      const error = JSON.parse(shed!.body).error;
      expect(error.code).toBe("server_overloaded");
      expect(error.message).toMatch(/wait too long/);
      expect(shed!.headers["retry-after"]).toBe("3");
      expect(shed!.headers.connection).toBe("close");
      // Still shedding new connections, the established one was served.
      expect(gw.gateway.runtime.overload.acceptDelayMs).toBeGreaterThanOrEqual(250);
      expect(keptDuringShedding).toBe(200);
      const metrics = await scrape(gw.url);
      expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "accept_delay" })).toBeGreaterThanOrEqual(1);
      expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "event_loop_lag" })).toBe(0);
      const shedLine = gw.logs().find((line) => line.refusal === "accept_delay");
      expect(shedLine).toMatchObject({ status: 503, errorCode: "server_overloaded", attempts: 0 });
      // The refusal came before any upstream work: only the admitted requests reached the mock.
      expect(upstream.requests.length).toBe(2 + statuses.filter((s) => s === 200).length);

      // Short turns again: once the probes have stayed under half the threshold for a second, admitted.
      await eventually(async () => (await chatOn(gw.url, fresh)).status === 200, 10_000, 100);
      expect(gw.gateway.runtime.overload.acceptDelayMs).toBeLessThan(250);
    } finally {
      fresh.destroy();
      kept.destroy();
    }
  });

  it("sheds nothing while the loop is busy but turns quickly, and reports the delay it measured", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok" });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], {
      server: { overload: { maxEventLoopLagMs: 500, maxAcceptDelayMs: 250 } },
    });
    const stop = longTurns(15);
    try {
      const started = Date.now();
      let answered = 0;
      while (Date.now() - started < 2_000) {
        const res = await chat(gw.url, { model: "gpt", messages: HI });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        answered++;
      }
      expect(answered).toBeGreaterThan(3);
    } finally {
      stop();
    }
    const metrics = await scrape(gw.url);
    for (const reason of ["accept_delay", "event_loop_lag"]) expect(metricValue(metrics, "aigw_requests_shed_total", { reason })).toBe(0);
    const delay = metricValue(metrics, "aigw_accept_delay_seconds");
    expect(delay).not.toBeNull();
    expect(delay!).toBeGreaterThan(0);
    expect(delay!).toBeLessThan(0.25);
  });

  it("sheds nothing under keep-alive clients at full speed with the defaults (a throughput run is busy, not late)", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok" });
    // The default thresholds (the harness turns them off for other tests).
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], {
      server: { overload: { maxEventLoopLagMs: 500, maxAcceptDelayMs: 1_000 } },
    });
    const statuses = new Map<number, number>();
    const until = Date.now() + 2_000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < until) {
          const res = await chat(gw.url, { model: "gpt", messages: HI });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          await res.arrayBuffer();
        }
      }),
    );
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)!).toBeGreaterThan(16);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "accept_delay" })).toBe(0);
  });
});
