/**
 * Keys created at run time through the admin API, kept in Redis by SHA-256 digest only
 * (names from ../store/redis-keys.ts, one hash tag so every script stays on one cluster slot):
 *   <prefix>{keys}:records   hash  digest → JSON record (id, name, team, plan, models, limits, createdAt)
 *   <prefix>{keys}:names     hash  name → digest (names are unique)
 *   <prefix>{keys}:disabled  set   digests of disabled keys
 * Each replica holds a snapshot refreshed every `refreshMs` (so a disable reaches the whole
 * fleet within that time) and asks Redis directly for digests it has not seen yet.
 */
import type { RedisClient } from "../store/redis-client";
import { redisKeys } from "../store/redis-keys";
import { keyIdFromDigest } from "./key-hash";
import type { KeyRecord } from "./key-record";

const CREATE_LUA = `
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

const LOOKUP_LUA = `
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if not rec then return false end
return {rec, redis.call('SISMEMBER', KEYS[2], ARGV[1])}`;

/** ARGV: name, mode (disable, enable, delete). Returns 0 when the name is unknown. */
const UPDATE_LUA = `
local digest = redis.call('HGET', KEYS[2], ARGV[1])
if not digest then return 0 end
if ARGV[2] == 'disable' then redis.call('SADD', KEYS[3], digest)
elseif ARGV[2] == 'enable' then redis.call('SREM', KEYS[3], digest)
else
  redis.call('HDEL', KEYS[1], digest)
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], digest)
end
return 1`;

type ScriptFn = (numKeys: number, ...args: string[]) => Promise<unknown>;
interface Scripted {
  aigwKeyCreate: ScriptFn;
  aigwKeyLookup: ScriptFn;
  aigwKeyUpdate: ScriptFn;
}

type StoredRecord = Omit<KeyRecord, "disabled" | "source">;

function parseRecord(digest: string, json: string, disabled: boolean): KeyRecord | null {
  try {
    const raw = JSON.parse(json) as Partial<StoredRecord>;
    if (typeof raw.name !== "string") return null;
    // Records written before ids existed take one from their digest: stable, and new per secret.
    const id = typeof raw.id === "string" && raw.id.length > 0 ? raw.id : keyIdFromDigest(digest);
    return { id, name: raw.name, team: raw.team ?? "default", plan: raw.plan ?? "default", models: raw.models ?? [], limits: raw.limits ?? {}, createdAt: raw.createdAt, disabled, source: "runtime" };
  } catch {
    return null;
  }
}

export class RuntimeKeyStore {
  private readonly scripts: Scripted;
  private readonly hashKey: string;
  private readonly namesKey: string;
  private readonly disabledKey: string;
  /** digest → record, from the last refresh plus direct look-ups since. */
  private snapshot = new Map<string, KeyRecord>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
    private readonly refreshMs = 5_000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.hashKey = redisKeys.runtimeKeyRecords(prefix);
    this.namesKey = redisKeys.runtimeKeyNames(prefix);
    this.disabledKey = redisKeys.runtimeKeysDisabled(prefix);
    const scripted = client as unknown as Partial<Scripted>;
    if (typeof scripted.aigwKeyCreate !== "function") {
      client.defineCommand("aigwKeyCreate", { lua: CREATE_LUA });
      client.defineCommand("aigwKeyLookup", { lua: LOOKUP_LUA });
      client.defineCommand("aigwKeyUpdate", { lua: UPDATE_LUA });
    }
    this.scripts = client as unknown as Scripted;
  }

  /** First load, then periodic refreshes (a failed load is counted and retried by the timer). */
  async start(): Promise<void> {
    await this.refresh().catch(this.onError);
    this.timer = setInterval(() => void this.refresh().catch(this.onError), this.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const [all, disabled] = await Promise.all([this.client.hgetall(this.hashKey), this.client.smembers(this.disabledKey)]);
    const off = new Set(disabled);
    const next = new Map<string, KeyRecord>();
    for (const [digest, json] of Object.entries(all)) {
      const record = parseRecord(digest, json, off.has(digest));
      if (record) next.set(digest, record);
    }
    this.snapshot = next;
  }

  /** The record for a digest, from the snapshot or Redis; null when unknown. Throws when Redis fails on a miss. */
  async lookup(digest: string): Promise<KeyRecord | null> {
    const known = this.snapshot.get(digest);
    if (known) return known;
    const reply = (await this.scripts.aigwKeyLookup(2, this.hashKey, this.disabledKey, digest)) as [string, number] | null;
    if (!reply) return null;
    const record = parseRecord(digest, reply[0], reply[1] === 1);
    if (record) this.snapshot.set(digest, record);
    return record;
  }

  /** Stores a new key by digest; false when the name is taken. */
  async create(digest: string, record: StoredRecord): Promise<boolean> {
    const created = (await this.scripts.aigwKeyCreate(2, this.hashKey, this.namesKey, digest, record.name, JSON.stringify(record))) === 1;
    if (created) this.snapshot.set(digest, { ...record, disabled: false, source: "runtime" });
    return created;
  }

  /** Disables, re-enables or deletes a key by name; false when the name is unknown. */
  async update(name: string, mode: "disable" | "enable" | "delete"): Promise<boolean> {
    const done = (await this.scripts.aigwKeyUpdate(3, this.hashKey, this.namesKey, this.disabledKey, name, mode)) === 1;
    if (done) await this.refresh();
    return done;
  }

  async list(): Promise<KeyRecord[]> {
    await this.refresh();
    return [...this.snapshot.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Names of the keys in the last snapshot (metrics drop the series of the others). */
  names(): Set<string> {
    return new Set([...this.snapshot.values()].map((r) => r.name));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
