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

  it("fails commands at once while not connected, and logs the outage without the password", async () => {
    const logger = recordingLogger();
    const client = createRedisClient(config("wrong-password"), { logger, metrics: recordingMetrics() });
    try {
      expect(await waitForReady(client, 300)).toBe(false);
      await expect(client.get("k")).rejects.toThrow();
      expect(logger.lines.some((l) => l.msg === "redis connection error")).toBe(true);
      expect(logger.text()).not.toContain("wrong-password");
    } finally {
      client.disconnect();
    }
  });
});
