/**
 * Multi-process mode with Redis unreachable and failOpen (the real entry point, WORKERS=2): the
 * workers never read the fleet's size from Redis, but each knows it has a sibling, so each
 * enforces half of every limit and the process group admits about one limit, not one per worker.
 * Before, a worker that never reached Redis (started, or restarted, during an outage) enforced
 * every limit whole.
 */
import { MockUpstream } from "../../helpers/mock-upstream";
import { testConfig, type SpawnedGateway, killIfRunning } from "../../helpers/gateway-harness";
import { freePort } from "../../helpers/redis-server";
import { chatBody } from "../../chaos/support/http";
import { parseLines, spawnCluster } from "./support";
import { postOnNewConnection } from "./new-connection";

const TEST_MS = 120_000;
const KEY = "sk-outage-share-key-0123456789";
const LIMIT = 6;

describe("multi-process mode during a Redis outage", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway | null = null;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
  });
  afterAll(async () => {
    await killIfRunning(gw);
    await upstream.stop();
  });

  it(`admits about the limit across both workers (${LIMIT}, not ${LIMIT * 2}) when Redis was never reached`, async () => {
    const deadPort = await freePort();
    gw = await spawnCluster(
      testConfig({
        logging: { level: "info" },
        models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
        redis: { url: `redis://127.0.0.1:${deadPort}`, failOpen: true, commandTimeoutMs: 200 },
        keys: [{ name: "shared", key: KEY, limits: { requestsPerMinute: LIMIT } }],
      }),
      2,
    );
    const g = gw;
    // Rounds of parallel requests, each on its own connection, so that both workers take some.
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      statuses.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => postOnNewConnection(g.url, chatBody("m"), `r${round}-${i}`, { authorization: `Bearer ${KEY}` })))));
    }
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const admitted = statuses.filter((s) => s === 200).length;
    // Half of 6 per worker; one more per worker if a slow run let its share refill (one every 20 s).
    expect(admitted).toBeGreaterThanOrEqual(LIMIT / 2);
    expect(admitted).toBeLessThanOrEqual(LIMIT + 2);
    const fallbacks = parseLines(g.output()).json.filter((l) => typeof l.msg === "string" && (l.msg as string).includes("serving on local limits"));
    expect(fallbacks.length).toBeGreaterThanOrEqual(1);
  }, TEST_MS);
});
