/** The shared Redis connection: password from config or REDIS_PASSWORD, fail-fast while down. */
import { createRedisClient, redisPassword, waitForReady } from "../../../gateway/src/store/redis-client";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { recordingLogger, recordingMetrics } from "./fakes";

describe("createRedisClient", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ password: "s3cret-redis-pass" });
  });
  afterAll(async () => {
    await redis.stop();
  });

  const config = (password?: string) => ({ url: redis.url, keyPrefix: "x:", failOpen: true, commandTimeoutMs: 500, ...(password ? { password } : {}) });

  it("takes the password from config first, then from REDIS_PASSWORD", () => {
    expect(redisPassword(config("from-config"), { REDIS_PASSWORD: "from-env" })).toBe("from-config");
    expect(redisPassword(config(), { REDIS_PASSWORD: "from-env" })).toBe("from-env");
    expect(redisPassword(config(), {})).toBeUndefined();
  });

  it("connects with the password from the environment", async () => {
    const client = createRedisClient(config(), { logger: recordingLogger(), metrics: recordingMetrics() }, { REDIS_PASSWORD: "s3cret-redis-pass" });
    try {
      expect(await waitForReady(client, 5_000)).toBe(true);
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });

  /** Time for one command on a client that is not connected; the result must be a rejection. */
  async function rejectsWithinMs(command: () => Promise<unknown>): Promise<number> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const stillWaiting = new Promise<"still waiting">((resolve) => (timer = setTimeout(() => resolve("still waiting"), 3 * FAIL_FAST_BOUND_MS)));
    const outcome = await Promise.race([command().then(() => "answered", () => "rejected"), stillWaiting]);
    clearTimeout(timer);
    expect(outcome).toBe("rejected");
    return performance.now() - started;
  }

  // The command timeout is 10 s here: a rejection well before it comes from the fail-fast
  // settings (no offline queue, no retries), not from the timeout. 2 s bounds a busy machine.
  const FAIL_FAST_BOUND_MS = 2_000;

  it("fails commands at once while not connected (wrong password), and logs the outage without the password", async () => {
    const logger = recordingLogger();
    const client = createRedisClient({ ...config("wrong-password"), commandTimeoutMs: 10_000 }, { logger, metrics: recordingMetrics() });
    try {
      expect(await waitForReady(client, 300)).toBe(false);
      expect(await rejectsWithinMs(() => client.get("k"))).toBeLessThan(FAIL_FAST_BOUND_MS);
      expect(logger.lines.some((l) => l.msg === "redis connection error")).toBe(true);
      expect(logger.text()).not.toContain("wrong-password");
    } finally {
      client.disconnect();
    }
  });

  it("fails commands at once while Redis is down (nothing listening), instead of queueing them", async () => {
    const client = createRedisClient({ url: "redis://127.0.0.1:1", keyPrefix: "x:", failOpen: true, commandTimeoutMs: 10_000 }, { logger: recordingLogger(), metrics: recordingMetrics() });
    try {
      const times = [];
      for (let i = 0; i < 3; i++) times.push(await rejectsWithinMs(() => client.get("k")));
      expect(Math.max(...times)).toBeLessThan(FAIL_FAST_BOUND_MS);
    } finally {
      client.disconnect();
    }
  });
});
