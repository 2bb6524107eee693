/**
 * Multi-process mode through the real entry point (dist/gateway/src/main.js with WORKERS=2):
 * one port, `/metrics` aggregated across workers whichever worker is scraped, access-log lines
 * whole under load, SIGTERM draining every worker's streams before the primary exits 0, a
 * killed worker restarted, and memory-store limits refused at start.
 */
import { request as httpRequest } from "node:http";
import { Agent } from "undici";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, spawnGateway, testConfig, type SpawnedGateway, killIfRunning } from "../../helpers/gateway-harness";
import { metricValue } from "../../helpers/http-client";
import { chatBody, postJson, streamChat } from "../../chaos/support/http";
import { childPids, parseLines, spawnCluster } from "./support";

const TEST_MS = 120_000;

/** One POST on a connection of its own (so the primary hands each to the next worker). */
function postOnNewConnection(url: string, body: unknown, requestId: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: "POST", path: "/v1/chat/completions", agent: false, headers: { "content-type": "application/json", "x-request-id": requestId, connection: "close" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${requestId} in 10 s`)));
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { connection: "close" } });
  expect(res.status).toBe(200);
  return res.text();
}

describe("multi-process mode", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway | null = null;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
  });
  afterEach(async () => {
    await killIfRunning(gw);
    gw = null;
  });
  afterAll(async () => {
    await upstream.stop();
  });

  const config = (extra: Record<string, unknown> = {}) => testConfig({ logging: { level: "info" }, models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }], ...extra });

  it("serves one port from two workers and aggregates /metrics across them, whichever worker answers the scrape", async () => {
    gw = await spawnCluster(config(), 2);
    expect(childPids(gw.child.pid!)).toHaveLength(2);
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => postOnNewConnection(gw!.url, chatBody("m"), `agg-${i}`)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Whichever worker took each connection and each scrape, the total is every worker's sum.
    for (let i = 0; i < 6; i++) {
      const text = await scrape(gw.url);
      expect(metricValue(text, "aigw_requests_total", { route: "chat.completions", model: "m", target: "up", status: "200" })).toBe(40);
      expect(metricValue(text, "aigw_cluster_workers")).toBe(2);
      expect(metricValue(text, "aigw_cluster_workers_scraped")).toBe(2);
      expect(metricValue(text, "aigw_target_up", { model: "m", target: "up" })).toBe(1);
      expect(metricValue(text, "aigw_request_duration_seconds_count", { route: "chat.completions", model: "m" })).toBe(40);
    }
    const servedBy = new Set(parseLines(gw.output()).json.filter((l) => l.msg === "gateway listening").map((l) => l.url));
    expect(servedBy.size).toBe(1);
  }, TEST_MS);

  it("writes every access-log line whole under load from both workers (3,000 requests, 64 connections)", async () => {
    gw = await spawnCluster(config(), 2);
    const url = gw.url;
    const agent = new Agent({ connections: 64 });
    // Long lines (about 300 bytes with the request id) fill the 4 KiB writes quickly.
    const ids = Array.from({ length: 3_000 }, (_, i) => `line-${i}-${"x".repeat(100)}`);
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          const answer = await postJson(url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, headers: { "x-request-id": id }, timeoutMs: 30_000 });
          statuses.push(answer.status);
        }
      }),
    );
    await agent.close();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    gw.kill("SIGTERM");
    expect(await gw.exited).toBe(0);
    const { json, broken } = parseLines(gw.output());
    expect(broken).toEqual([]);
    const logged = json.filter((l) => l.msg === "request").map((l) => l.reqId as string);
    expect(logged.length).toBe(ids.length);
    expect(new Set(logged)).toEqual(new Set(ids));
  }, TEST_MS);

  it("drains every worker on SIGTERM: streams under way finish, new connections are refused, the primary exits 0 after the workers", async () => {
    const slow = await MockUpstream.start("slow", { kind: "ok", tokens: 30, interTokenMs: 60 });
    try {
      gw = await spawnCluster(testConfig({ logging: { level: "info" }, server: { shutdownGraceMs: 20_000 }, models: [{ name: "m", targets: [{ name: "slow", baseUrl: slow.baseUrl }] }] }), 2);
      const url = gw.url;
      const workers = childPids(gw.child.pid!);
      expect(workers).toHaveLength(2);
      // One connection per stream: the primary spreads them over both workers.
      const agent = new Agent({ connections: 1, pipelining: 0 });
      const agents = Array.from({ length: 40 }, () => new Agent({ connections: 1 }));
      const started = new Set<number>();
      const streams = agents.map((a, i) => streamChat(url, chatBody("m"), { dispatcher: a, timeoutMs: 20_000, onEvent: (n) => n >= 1 && started.add(i) }));
      await eventually(() => started.size === 40, 20_000);
      gw.kill("SIGTERM");
      await eventually(async () => {
        try {
          await postJson(url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, timeoutMs: 2_000 });
          return false;
        } catch (err) {
          return (err as { code?: string }).code === "ECONNREFUSED";
        }
      }, 5_000);
      expect(gw.child.exitCode).toBeNull();
      const results = await Promise.all(streams);
      const code = await gw.exited;
      expect(code).toBe(0);
      const broken = results.filter((s) => s.status !== 200 || !s.done || s.error !== null || s.transportError !== null || s.content.trim().split(" ").length !== 30);
      expect(broken).toEqual([]);
      const lines = parseLines(gw.output()).json;
      expect(lines.filter((l) => l.msg === "stopped")).toHaveLength(2);
      expect(lines.some((l) => l.event === "cluster_stopped" && l.code === 0)).toBe(true);
      for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
      await Promise.all([agent.close(), ...agents.map((a) => a.close())]);
    } finally {
      await slow.stop();
    }
  }, TEST_MS);

  it("restarts a worker that was killed, and keeps serving meanwhile", async () => {
    gw = await spawnCluster(config(), 2);
    const [victim, survivor] = childPids(gw.child.pid!);
    process.kill(victim, "SIGKILL");
    // Served by the survivor (and the new worker once it listens).
    const during = await Promise.all(Array.from({ length: 10 }, (_, i) => postOnNewConnection(gw!.url, chatBody("m"), `during-${i}`)));
    expect(during.every((s) => s === 200)).toBe(true);
    await eventually(() => childPids(gw!.child.pid!).length === 2 && !childPids(gw!.child.pid!).includes(victim), 20_000);
    expect(childPids(gw.child.pid!)).toContain(survivor);
    // Log lines reach stdout in batches (up to 250 ms after the first: gateway/src/log-sink.ts), and
    // the replacement is forked 250 ms after the exit: wait for the line rather than race the flush.
    const exitedLine = () => parseLines(gw!.output()).json.find((l) => l.event === "worker_exited");
    await eventually(() => exitedLine() !== undefined, 5_000);
    const exited = exitedLine();
    expect(exited).toMatchObject({ signal: "SIGKILL", restartInMs: 250 });
    await eventually(async () => metricValue(await scrape(gw!.url), "aigw_cluster_worker_restarts_total") === 1, 20_000);
    expect(metricValue(await scrape(gw.url), "aigw_cluster_workers")).toBe(2);
  }, TEST_MS);

  it("refuses to start several workers on memory-store limits, before forking any", async () => {
    const limited = config({ keys: [{ name: "a", key: "sk-cluster-test-key-1", limits: { requestsPerMinute: 10 } }] });
    await expect(spawnGateway(limited, { WORKERS: "2" })).rejects.toThrow(/exited with 1[\s\S]*server\.workers: 2 workers with limits on the memory store/);
  }, TEST_MS);
});
