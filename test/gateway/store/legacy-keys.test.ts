/**
 * State written under the key names used before hash tags is carried over on one real Redis:
 * spend counters added into their tagged keys (with their TTL, repeatable without double
 * counting), runtime keys copied once (a later start does not bring back a key deleted since).
 */
import { Redis } from "ioredis";
import { migrateLegacyKeys, taggedSpendKey } from "../../../gateway/src/store/legacy-keys";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { recordingLogger } from "../traffic/fakes";

describe("carrying over the old key names", () => {
  let redis: TestRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it("maps old spend keys to tagged ones and leaves anything else alone", () => {
    expect(taggedSpendKey("aigw:spend:k-1:2026-11", "aigw:")).toBe("aigw:spend:{k:k-1}:2026-11");
    expect(taggedSpendKey("aigw:teamspend:lab:2026-11", "aigw:")).toBe("aigw:teamspend:{t:lab}:2026-11");
    expect(taggedSpendKey("aigw:spend:{k:k-1}:2026-11", "aigw:")).toBeNull();
    expect(taggedSpendKey("aigw:spend:k-1:2026-11:resv", "aigw:")).toBeNull();
  });

  it("adds old spend into the new keys, deletes the old ones, copies runtime keys once", async () => {
    await client.set("aigw:spend:k-1:2026-11", "700", "PX", 600_000);
    await client.set("aigw:spend:{k:k-1}:2026-11", "300");
    await client.set("aigw:teamspend:lab:2026-11", "50");
    await client.hset("aigw:keys", "digest-a", '{"name":"a"}');
    await client.hset("aigw:keynames", "a", "digest-a");
    await client.sadd("aigw:keys:disabled", "digest-a");
    const logger = recordingLogger();
    await migrateLegacyKeys(client, "aigw:", logger);
    expect(await client.get("aigw:spend:{k:k-1}:2026-11")).toBe("1000");
    expect(await client.pttl("aigw:spend:{k:k-1}:2026-11")).toBeGreaterThan(500_000);
    expect(await client.get("aigw:teamspend:{t:lab}:2026-11")).toBe("50");
    expect(await client.exists("aigw:spend:k-1:2026-11", "aigw:teamspend:lab:2026-11")).toBe(0);
    expect(await client.hgetall("aigw:{keys}:records")).toEqual({ "digest-a": '{"name":"a"}' });
    expect(await client.hgetall("aigw:{keys}:names")).toEqual({ a: "digest-a" });
    expect(await client.smembers("aigw:{keys}:disabled")).toEqual(["digest-a"]);
    expect(logger.text()).toContain("redis_keys_migrated");

    // Deleted after the upgrade, the key stays deleted across restarts; a late old-name spend is still carried.
    await client.hdel("aigw:{keys}:records", "digest-a");
    await client.set("aigw:spend:k-1:2026-11", "5");
    await migrateLegacyKeys(client, "aigw:", recordingLogger());
    expect(await client.hgetall("aigw:{keys}:records")).toEqual({});
    expect(await client.get("aigw:spend:{k:k-1}:2026-11")).toBe("1005");
  });
});
