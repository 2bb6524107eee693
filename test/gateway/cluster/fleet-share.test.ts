/**
 * A Redis outage with failOpen: true, three real gateway processes: each has seen the fleet's
 * size in Redis (heartbeats), so once Redis is killed each enforces a third of the per-key limit
 * on its own, and the fleet admits about the limit in total instead of three times it.
 */
import { spawnGateway, eventually, type SpawnedGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { metricValue } from "../../helpers/http-client";
import { chat } from "../traffic/http-helpers";
import { parseLines } from "./support";
import { shareAdmit, shareOf } from "../../../gateway/src/limits/fleet-share";

const KEY = "sk-fleet-share-0123456789";
const LIMIT = 30;

describe("fleet share during a Redis outage", () => {
  it("splits each limit over the last known fleet size, at least 1", () => {
    expect(shareOf(30, 3)).toBe(10);
    expect(shareOf(20, 3)).toBe(6);
    expect(shareOf(2, 5)).toBe(1);
    expect(shareOf(7, 0)).toBe(7);
    const input = { budgets: [{ key: "b", limitNano: 9_000 }], rates: [{ key: "r", limit: 60, periodMs: 60_000, cost: 1 }], concurrency: { key: "c", limit: 4, leaseId: "l" } };
    expect(shareAdmit(input, 3)).toEqual({ budgets: [{ key: "b", limitNano: 3_000 }], rates: [{ key: "r", limit: 20, periodMs: 60_000, cost: 1 }], concurrency: { key: "c", limit: 1, leaseId: "l" } });
    expect(shareAdmit(input, 1)).toBe(input);
  });

  describe("three gateway processes", () => {
    let redis: TestRedis;
    let upstream: MockUpstream;
    const gateways: SpawnedGateway[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    });
    afterAll(async () => {
      for (const g of gateways) {
        g.kill("SIGTERM");
        await g.exited;
      }
      await upstream.stop();
      await redis.stop();
    });

    it(`admit about the per-key limit in total once Redis is killed (${LIMIT}, not ${LIMIT * 3})`, async () => {
      const config = {
        server: { host: "127.0.0.1", port: 0 },
        healthCheck: { enabled: false },
        logging: { level: "info" as const, accessLog: false },
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        redis: { url: redis.url, failOpen: true, commandTimeoutMs: 500 },
        keys: [{ name: "shared", key: KEY, limits: { requestsPerMinute: LIMIT } }],
      };
      for (let i = 0; i < 3; i++) gateways.push(await spawnGateway(config));
      // Every replica has counted the fleet (heartbeats every 2 s).
      const seenSize = (g: SpawnedGateway) => parseLines(g.output()).json.filter((l) => l.event === "fleet_size").map((l) => l.replicas as number).pop();
      await eventually(() => gateways.every((g) => seenSize(g) === 3), 15_000);

      await redis.stop();
      const statuses: number[][] = [];
      for (const g of gateways) {
        const mine: number[] = [];
        for (let i = 0; i < LIMIT; i++) {
          const res = await chat(g.url, { model: "m" }, { authorization: `Bearer ${KEY}` });
          await res.arrayBuffer();
          mine.push(res.status);
        }
        statuses.push(mine);
      }
      const admitted = statuses.map((s) => s.filter((x) => x === 200).length);
      // Each replica: a third of 30 (10) during the outage; its share refills one every 6 s of a slow run.
      for (const n of admitted) {
        expect(n).toBeGreaterThanOrEqual(LIMIT / 3);
        expect(n).toBeLessThanOrEqual(LIMIT / 3 + 2);
      }
      expect(statuses.flat().filter((s) => s !== 200 && s !== 429)).toEqual([]);
      for (const g of gateways) expect(metricValue(await (await fetch(`${g.url}/metrics`)).text(), "aigw_store_fallback")).toBe(1);
    }, 120_000);
  });
});
