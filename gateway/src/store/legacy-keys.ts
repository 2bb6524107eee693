/**
 * Carries state over from the key names used before hash tags (./redis-keys.ts), on one Redis
 * (a cluster never held the old names): at start, each replica adds every old spend counter into
 * its new key and deletes the old one (safe to repeat, so spend written by not yet upgraded
 * replicas during a rolling upgrade is carried by the next replica to start), and copies the
 * runtime keys once (a marker stops a later start from bringing back keys deleted since).
 * Rate-limit windows, concurrency slots and reservations are not carried: they refill or expire
 * within a minute.
 */
import type { Redis } from "ioredis";
import type { LoggerPort } from "../traffic/metrics-port";
import { redisKeys } from "./redis-keys";

/** KEYS: old, new. Adds the old counter to the new one (keeping the old TTL), deletes the old. */
const MOVE_COUNTER_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('INCRBY', KEYS[2], v)
if ttl > 0 and redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('DEL', KEYS[1])
return 1`;

/** KEYS: old records, old names, old disabled, new records, new names, new disabled, marker. */
const COPY_RUNTIME_KEYS_LUA = `
if redis.call('EXISTS', KEYS[7]) == 1 then return 0 end
local copied = 0
for i = 1, 2 do
  local all = redis.call('HGETALL', KEYS[i])
  for j = 1, #all, 2 do copied = copied + redis.call('HSETNX', KEYS[i + 3], all[j], all[j + 1]) end
end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SADD', KEYS[6], m) end
redis.call('SET', KEYS[7], '1')
return copied`;

/** `spend:<id>:<month>` / `teamspend:<team>:<month>` without a tag → the tagged name, or null. */
export function taggedSpendKey(oldKey: string, prefix: string): string | null {
  const rest = oldKey.slice(prefix.length);
  if (rest.includes("{")) return null;
  const match = /^(spend|teamspend):(.+):(\d{4}-\d{2})$/.exec(rest);
  if (!match) return null;
  return prefix + (match[1] === "spend" ? redisKeys.keySpend(match[2], match[3]) : redisKeys.teamSpend(match[2], match[3]));
}

export async function migrateLegacyKeys(client: Redis, prefix: string, logger: LoggerPort): Promise<void> {
  let moved = 0;
  for (const pattern of [`${prefix}spend:*`, `${prefix}teamspend:*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        const target = taggedSpendKey(key, prefix);
        if (target) moved += Number(await client.eval(MOVE_COUNTER_LUA, 2, key, target));
      }
    } while (cursor !== "0");
  }
  const copied = Number(
    await client.eval(COPY_RUNTIME_KEYS_LUA, 7, `${prefix}keys`, `${prefix}keynames`, `${prefix}keys:disabled`, redisKeys.runtimeKeyRecords(prefix), redisKeys.runtimeKeyNames(prefix), redisKeys.runtimeKeysDisabled(prefix), `${prefix}{keys}:migrated`),
  );
  if (moved > 0 || copied > 0) logger.info({ event: "redis_keys_migrated", spendCounters: moved, runtimeKeyEntries: copied }, "state carried over from the key names used before hash tags");
}
