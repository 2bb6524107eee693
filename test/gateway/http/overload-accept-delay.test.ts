/**
 * Shedding on accept delay through HTTP. A loop whose every turn is long (what a process relaying
 * more than it can looks like) keeps its timers within the lag threshold, so lag shedding never
 * starts; with new connections arriving faster than it takes them, they queue and the
 * accept-delay probe waits behind them: requests on new connections get 503 `server_overloaded`
 * (reason `accept_delay`) with Retry-After and `connection: close`, while a keep-alive connection
 * already taken keeps being served, until the queue is gone. Long turns alone (no queue), and
 * keep-alive clients at full speed, shed nothing. Turns are made long here with a busy wait, and
 * connections arrive at 4 a turn, more than a busy Node takes a turn (about one), so the test does not depend
 * on how fast the machine is.
 */
import { Agent } from "node:http";
import { connect, type Socket } from "node:net";
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

/** Makes every turn of this process's loop (the in-process gateway's) at least `ms` long, until stopped; `eachTurn` runs after the wait. */
function longTurns(ms: number, eachTurn: () => void = () => {}): () => void {
  let on = true;
  const turn = () => {
    if (!on) return;
    busyWait(ms);
    eachTurn();
    setImmediate(turn);
  };
  setImmediate(turn);
  return () => {
    on = false;
  };
}

describe("shedding on accept delay", () => {
  const fx = serverFixture();

  it("sheds first requests on new connections while they queue behind long turns (lag under its threshold), serves kept-alive ones, then admits again", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok" });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], {
      server: { overload: { maxEventLoopLagMs: 500, maxAcceptDelayMs: 250, retryAfterSeconds: 3 } },
    });
    const { port } = new URL(gw.url);
    const fresh = new Agent({ keepAlive: false });
    const kept = new Agent({ keepAlive: true, maxSockets: 1 });
    const queued: Socket[] = [];
    try {
      expect((await chatOn(gw.url, kept)).status).toBe(200); // the kept-alive connection, taken while calm

      // 40 ms turns (timers at most ~40 ms late: no lag shedding), 4 new connections a turn (they
      // send nothing; a busy Node takes about one a turn): a queue that keeps growing.
      let opening = true;
      const stop = longTurns(40, () => {
        for (let i = 0; opening && i < 4; i++) queued.push(connect({ port: Number(port), host: "127.0.0.1" }).on("error", () => {}));
      });
      let keptStatus: number | null = null;
      let shed: RawResponse | null = null;
      try {
        await eventually(() => gw.gateway.runtime.overload.sheddingOnAcceptDelay, 15_000, 50);
        opening = false;
        keptStatus = (await chatOn(gw.url, kept)).status;
        shed = await chatOn(gw.url, fresh); // behind what is still queued, then judged
      } finally {
        opening = false;
        stop();
      }
      expect(keptStatus).toBe(200);
      expect(shed.status).toBe(503);
      const error = JSON.parse(shed.body).error;
      expect(error.code).toBe("server_overloaded");
      expect(error.message).toMatch(/wait too long/);
      expect(shed.headers["retry-after"]).toBe("3");
      expect(shed.headers.connection).toBe("close");
      const metrics = await scrape(gw.url);
      expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "accept_delay" })).toBeGreaterThanOrEqual(1);
      expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "event_loop_lag" })).toBe(0);
      expect(metricValue(metrics, "aigw_accept_delay_seconds")!).toBeGreaterThanOrEqual(0.25);
      const shedLine = gw.logs().find((line) => line.refusal === "accept_delay");
      expect(shedLine).toMatchObject({ status: 503, errorCode: "server_overloaded", attempts: 0 });
      // The refusal came before any upstream work: only the two kept-alive requests reached the mock.
      expect(upstream.requests.length).toBe(2);

      // The queue gone, once the probes have stayed under half the threshold for a second: admitted.
      for (const socket of queued) socket.destroy();
      await eventually(async () => (await chatOn(gw.url, fresh)).status === 200, 15_000, 100);
      expect(gw.gateway.runtime.overload.sheddingOnAcceptDelay).toBe(false);
    } finally {
      for (const socket of queued) socket.destroy();
      fresh.destroy();
      kept.destroy();
    }
  });

  it("sheds nothing while every turn is long but nothing queues (that is the lag's to judge)", async () => {
    const upstream = await fx.upstream("ok", { kind: "ok" });
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "ok", baseUrl: upstream.baseUrl }] }], {
      server: { overload: { maxEventLoopLagMs: 0, maxAcceptDelayMs: 250 } },
    });
    const fresh = new Agent({ keepAlive: false });
    // 150 ms turns: a probe waits two or three of them (300-450 ms, over the threshold), no queue.
    const stop = longTurns(150);
    try {
      const started = Date.now();
      while (Date.now() - started < 3_000) expect((await chatOn(gw.url, fresh)).status).toBe(200);
    } finally {
      stop();
      fresh.destroy();
    }
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_accept_delay_seconds")!).toBeGreaterThan(0);
    expect(metricValue(metrics, "aigw_requests_shed_total", { reason: "accept_delay" })).toBe(0);
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
