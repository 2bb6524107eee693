/**
 * Multi-process mode, /metrics across worker restarts (the real entry point, WORKERS=2): the
 * aggregated counters and histograms never go backwards when a worker dies and is replaced. A
 * Prometheus counter that drops reads as a reset: rate() and increase() then count the whole
 * remaining total again, so a worker crash showed as a spike of requests, tokens and spend.
 * Gauges follow the live workers only (a dead worker's in-flight requests are not in flight).
 */
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, testConfig, type SpawnedGateway, killIfRunning } from "../../helpers/gateway-harness";
import { metricValue } from "../../helpers/http-client";
import { chatBody } from "../../chaos/support/http";
import { childPids, spawnCluster } from "./support";
import { postOnNewConnection } from "./new-connection";

const TEST_MS = 120_000;

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { connection: "close" } });
  expect(res.status).toBe(200);
  return res.text();
}

describe("multi-process /metrics across worker restarts", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway | null = null;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
  });
  afterAll(async () => {
    await killIfRunning(gw);
    await upstream.stop();
  });

  it("keeps every counter and histogram of the workers that died: the totals never drop", async () => {
    gw = await spawnCluster(testConfig({ logging: { level: "info" }, models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] }), 2);
    const url = gw.url;
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => postOnNewConnection(url, chatBody("m"), `before-${i}`)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const labels = { route: "chat.completions", model: "m", target: "up", status: "200" };
    const before = await scrape(url);
    expect(metricValue(before, "aigw_requests_total", labels)).toBe(40);
    const tokensBefore = metricValue(before, "aigw_tokens_total", { model: "m", kind: "completion" });
    expect(tokensBefore).toBeGreaterThan(0);

    // Both original workers die in turn (SIGKILL: no goodbye), so every request above was counted by a worker now gone.
    const originals = childPids(gw.child.pid!);
    expect(originals).toHaveLength(2);
    for (const [n, victim] of originals.entries()) {
      process.kill(victim, "SIGKILL");
      await eventually(() => {
        const now = childPids(gw!.child.pid!);
        return now.length === 2 && !now.includes(victim);
      }, 30_000);
      await eventually(async () => metricValue(await scrape(url), "aigw_cluster_worker_restarts_total") === n + 1, 30_000);
    }
    const after = await scrape(url);
    expect(metricValue(after, "aigw_requests_total", labels)).toBe(40);
    expect(metricValue(after, "aigw_request_duration_seconds_count", { route: "chat.completions", model: "m" })).toBe(40);
    expect(metricValue(after, "aigw_tokens_total", { model: "m", kind: "completion" })).toBe(tokensBefore);
    expect(metricValue(after, "aigw_cluster_workers")).toBe(2);
    // Gauges are the live workers' only.
    expect(metricValue(after, "aigw_inflight_requests")).toBe(0);

    // New requests add on top of what the dead workers had counted.
    const more = await Promise.all(Array.from({ length: 10 }, (_, i) => postOnNewConnection(url, chatBody("m"), `after-${i}`)));
    expect(more.every((s) => s === 200)).toBe(true);
    expect(metricValue(await scrape(url), "aigw_requests_total", labels)).toBe(50);
  }, TEST_MS);
});
