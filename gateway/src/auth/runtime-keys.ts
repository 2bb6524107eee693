/**
 * Keys created at run time through the admin API, kept in Redis by SHA-256 digest only (names
 * from ../store/redis-keys.ts, one hash tag so every script stays on one cluster slot):
 *   <prefix>{keys}:records   hash    digest → JSON record (id, name, team, plan, models, limits, dates, metadata, revision)
 *   <prefix>{keys}:names     hash    name → digest of its current secret (names are unique)
 *   <prefix>{keys}:disabled  set     digests of disabled keys
 *   <prefix>{keys}:previous  hash    digest of a rotated-out secret → {name, until}: it still works until then
 *   <prefix>{keys}:version   string  bumped by every change, so replicas notice at their next poll
 *   <prefix>{keys}:audit     list    the newest audit events first, trimmed to a bound
 * Every change is one Lua script: the record, the name index, the version and the audit event move
 * together, and a change is applied only when the record is still the one the caller read
 * (compare-and-set), so two admins updating at once cannot lose either's change silently.
 * Each replica holds a snapshot, re-read when the version moved (polled every `pollMs`) and at
 * least every `fullRefreshMs`, and asks Redis directly for digests it has not seen yet.
 */
import type { RedisClient } from "../store/redis-client";
import { redisKeys } from "../store/redis-keys";
import { keyIdFromDigest } from "./key-hash";
import type { KeyRecord } from "./key-record";

/** ARGV: digest, name, record, audit event, audit bound. */
const CREATE_LUA = `
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('INCR', KEYS[3])
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
return 1`;

/** KEYS: keys, keynames, disabled, previous. ARGV: digest. Returns {record, disabled, until or ''} or nil. */
const LOOKUP_LUA = `
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if rec then return {rec, redis.call('SISMEMBER', KEYS[3], ARGV[1]), ''} end
local prev = redis.call('HGET', KEYS[4], ARGV[1])
if not prev then return false end
local p = cjson.decode(prev)
local current = redis.call('HGET', KEYS[2], p.name)
if not current then return false end
rec = redis.call('HGET', KEYS[1], current)
if not rec then return false end
return {rec, redis.call('SISMEMBER', KEYS[3], current), tostring(p['until'])}`;

/** Drops the rotated-out secrets of ARGV[1] (all of them, or those whose overlap ended before ARGV[2]). */
const PRUNE_PREVIOUS = `
local function prune(previous, name, before)
  local all = redis.call('HGETALL', previous)
  for i = 1, #all, 2 do
    local p = cjson.decode(all[i + 1])
    if p.name == name and (before == nil or tonumber(p['until']) <= before) then redis.call('HDEL', previous, all[i]) end
  end
end`;

/**
 * KEYS: keys, keynames, disabled, previous, version, audit.
 * ARGV: name, expected record JSON, mode (replace, rotate, delete), next record JSON, disabled (1/0),
 *       audit event, audit bound, new digest (rotate), previous secret valid until ms (rotate, 0: not at all), now ms.
 * Returns 1 done, 0 unknown name, -1 the record changed since it was read.
 */
const CHANGE_LUA = `${PRUNE_PREVIOUS}
local digest = redis.call('HGET', KEYS[2], ARGV[1])
if not digest then return 0 end
if redis.call('HGET', KEYS[1], digest) ~= ARGV[2] then return -1 end
local mode = ARGV[3]
if mode == 'delete' then
  redis.call('HDEL', KEYS[1], digest)
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], digest)
  prune(KEYS[4], ARGV[1], nil)
else
  if mode == 'rotate' then
    redis.call('HDEL', KEYS[1], digest)
    redis.call('SREM', KEYS[3], digest)
    prune(KEYS[4], ARGV[1], tonumber(ARGV[10]))
    if tonumber(ARGV[9]) > tonumber(ARGV[10]) then
      redis.call('HSET', KEYS[4], digest, cjson.encode({name = ARGV[1], ['until'] = tonumber(ARGV[9])}))
    end
    digest = ARGV[8]
    redis.call('HSET', KEYS[2], ARGV[1], digest)
  end
  redis.call('HSET', KEYS[1], digest, ARGV[4])
  if ARGV[5] == '1' then redis.call('SADD', KEYS[3], digest) else redis.call('SREM', KEYS[3], digest) end
end
redis.call('INCR', KEYS[5])
redis.call('LPUSH', KEYS[6], ARGV[6])
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[7]) - 1)
return 1`;

type ScriptFn = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;
interface Scripted {
  aigwKeyCreate: ScriptFn;
  aigwKeyLookup2: ScriptFn;
  aigwKeyChange: ScriptFn;
}

/** What is stored for a key (its enabled state lives in the disabled set). */
export type StoredRecord = Omit<KeyRecord, "disabled" | "source">;

/** A key as read from Redis now, with the exact stored JSON a change must still find. */
export interface StoredKey {
  record: KeyRecord;
  json: string;
}

export type ChangeResult = "done" | "not_found" | "conflict";

export interface RuntimeKeyStoreOptions {
  /** How often the change counter is polled (a change reaches every replica within it). */
  pollMs?: number;
  /** Full re-read at least this often, whatever the counter says. */
  fullRefreshMs?: number;
  /** Audit events kept. */
  auditMaxEvents?: number;
  onError?: (err: unknown) => void;
  now?: () => number;
}

function parseRecord(digest: string, json: string, disabled: boolean): KeyRecord | null {
  try {
    const raw = JSON.parse(json) as Partial<StoredRecord>;
    if (typeof raw.name !== "string") return null;
    // Records written before ids existed take one from their digest: stable, and new per secret.
    const id = typeof raw.id === "string" && raw.id.length > 0 ? raw.id : keyIdFromDigest(digest);
    return { ...raw, id, name: raw.name, team: raw.team ?? "default", plan: raw.plan ?? "default", models: raw.models ?? [], limits: raw.limits ?? {}, disabled, source: "runtime" };
  } catch {
    return null;
  }
}

/** A snapshot entry: the record object is kept while its stored form is unchanged, so resolved keys are reused. */
interface Entry {
  json: string;
  disabled: boolean;
  record: KeyRecord;
}

export class RuntimeKeyStore {
  private readonly scripts: Scripted;
  private readonly keys: { records: string; names: string; disabled: string; previous: string; version: string; audit: string };
  /** digest → current record. */
  private snapshot = new Map<string, Entry>();
  /** Rotated-out digest → the current digest of its key and when it stops working. */
  private previous = new Map<string, { name: string; until: number }>();
  private byName = new Map<string, string>();
  private version: string | null = null;
  private lastFullRefresh = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly pollMs: number;
  private readonly fullRefreshMs: number;
  readonly auditMaxEvents: number;
  private readonly onError: (err: unknown) => void;
  private readonly now: () => number;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
    options: RuntimeKeyStoreOptions = {},
  ) {
    this.keys = {
      records: redisKeys.runtimeKeyRecords(prefix),
      names: redisKeys.runtimeKeyNames(prefix),
      disabled: redisKeys.runtimeKeysDisabled(prefix),
      previous: redisKeys.runtimeKeysPrevious(prefix),
      version: redisKeys.runtimeKeysVersion(prefix),
      audit: redisKeys.adminAudit(prefix),
    };
    this.pollMs = options.pollMs ?? 1_000;
    this.fullRefreshMs = options.fullRefreshMs ?? 30_000;
    this.auditMaxEvents = options.auditMaxEvents ?? 10_000;
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? Date.now;
    const scripted = client as unknown as Partial<Scripted>;
    if (typeof scripted.aigwKeyChange !== "function") {
      client.defineCommand("aigwKeyCreate", { lua: CREATE_LUA });
      client.defineCommand("aigwKeyLookup2", { lua: LOOKUP_LUA });
      client.defineCommand("aigwKeyChange", { lua: CHANGE_LUA });
    }
    this.scripts = client as unknown as Scripted;
  }

  /** First load, then polling (a failed load is counted and retried by the timer). */
  async start(): Promise<void> {
    await this.refresh().catch(this.onError);
    this.timer = setInterval(() => void this.poll().catch(this.onError), this.pollMs);
    this.timer.unref();
  }

  /** Re-reads everything when the change counter moved, or the last full read is old. */
  private async poll(): Promise<void> {
    if (this.now() - this.lastFullRefresh < this.fullRefreshMs && (await this.client.get(this.keys.version)) === this.version) return;
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const replies = await this.client.multi().get(this.keys.version).hgetall(this.keys.records).smembers(this.keys.disabled).hgetall(this.keys.previous).hgetall(this.keys.names).exec();
    if (!replies) throw new Error("key snapshot transaction aborted");
    for (const [err] of replies) if (err) throw err;
    const [version, all, disabled, previous, names] = replies.map(([, value]) => value) as [string | null, Record<string, string>, string[], Record<string, string>, Record<string, string>];
    const off = new Set(disabled);
    const next = new Map<string, Entry>();
    for (const [digest, json] of Object.entries(all)) {
      const isOff = off.has(digest);
      const known = this.snapshot.get(digest);
      if (known && known.json === json && known.disabled === isOff) {
        next.set(digest, known);
        continue;
      }
      const record = parseRecord(digest, json, isOff);
      if (record) next.set(digest, { json, disabled: isOff, record });
    }
    const prev = new Map<string, { name: string; until: number }>();
    for (const [digest, json] of Object.entries(previous)) {
      try {
        const p = JSON.parse(json) as { name?: unknown; until?: unknown };
        if (typeof p.name === "string" && typeof p.until === "number") prev.set(digest, { name: p.name, until: p.until });
      } catch {
        // A malformed entry gives no access.
      }
    }
    this.snapshot = next;
    this.previous = prev;
    this.byName = new Map(Object.entries(names));
    this.version = version;
    this.lastFullRefresh = this.now();
  }

  /** The record for a digest (a rotated-out one during its overlap), from the snapshot or Redis; null when unknown. Throws when Redis fails on a miss. */
  async lookup(digest: string): Promise<KeyRecord | null> {
    const known = this.snapshot.get(digest);
    if (known) return known.record;
    const rotated = this.previous.get(digest);
    if (rotated) {
      if (this.now() >= rotated.until) return null;
      const current = this.byName.get(rotated.name);
      return (current !== undefined && this.snapshot.get(current)?.record) || null;
    }
    const k = this.keys;
    const reply = (await this.scripts.aigwKeyLookup2(4, k.records, k.names, k.disabled, k.previous, digest)) as [string, number, string] | null;
    if (!reply) return null;
    if (reply[2] !== "") return this.now() < Number(reply[2]) ? parseRecord(digest, reply[0], reply[1] === 1) : null;
    const record = parseRecord(digest, reply[0], reply[1] === 1);
    if (record) this.snapshot.set(digest, { json: reply[0], disabled: reply[1] === 1, record });
    return record;
  }

  /** The key named `name` as stored now (read from Redis, not the snapshot); null when unknown. */
  async get(name: string): Promise<StoredKey | null> {
    const digest = await this.client.hget(this.keys.names, name);
    if (digest === null) return null;
    const [json, disabled] = await Promise.all([this.client.hget(this.keys.records, digest), this.client.sismember(this.keys.disabled, digest)]);
    if (json === null) return null;
    const record = parseRecord(digest, json, disabled === 1);
    return record && { record, json };
  }

  /** Stores a new key by digest, with its audit event; false when the name is taken. */
  async create(digest: string, record: StoredRecord, auditEvent: string): Promise<boolean> {
    const k = this.keys;
    const created = (await this.scripts.aigwKeyCreate(4, k.records, k.names, k.version, k.audit, digest, record.name, JSON.stringify(record), auditEvent, this.auditMaxEvents)) === 1;
    if (created) await this.refresh().catch(this.onError);
    return created;
  }

  /** Replaces the record (and its enabled state) if it is still `expected`. */
  replace(expected: StoredKey, next: StoredRecord, disabled: boolean, auditEvent: string): Promise<ChangeResult> {
    return this.change(expected, "replace", JSON.stringify(next), disabled, auditEvent, "", 0);
  }

  /** Gives the key a new secret digest; the old one keeps working until `previousUntilMs` (≤ now: not at all). */
  rotate(expected: StoredKey, next: StoredRecord, newDigest: string, previousUntilMs: number, auditEvent: string): Promise<ChangeResult> {
    return this.change(expected, "rotate", JSON.stringify(next), expected.record.disabled, auditEvent, newDigest, previousUntilMs);
  }

  delete(expected: StoredKey, auditEvent: string): Promise<ChangeResult> {
    return this.change(expected, "delete", "", false, auditEvent, "", 0);
  }

  private async change(expected: StoredKey, mode: string, next: string, disabled: boolean, auditEvent: string, newDigest: string, untilMs: number): Promise<ChangeResult> {
    const k = this.keys;
    const reply = await this.scripts.aigwKeyChange(6, k.records, k.names, k.disabled, k.previous, k.version, k.audit, expected.record.name, expected.json, mode, next, disabled ? "1" : "0", auditEvent, this.auditMaxEvents, newDigest, Math.floor(untilMs), this.now());
    if (reply === 1) await this.refresh().catch(this.onError);
    return reply === 1 ? "done" : reply === 0 ? "not_found" : "conflict";
  }

  /** The records of the last snapshot (no Redis call). */
  snapshotRecords(): KeyRecord[] {
    return [...this.snapshot.values()].map((e) => e.record);
  }

  async list(): Promise<KeyRecord[]> {
    await this.refresh();
    return [...this.snapshot.values()].map((e) => e.record).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The newest `max` audit events, newest first, as stored (JSON text). */
  async auditEvents(max: number): Promise<string[]> {
    return this.client.lrange(this.keys.audit, 0, Math.max(0, max - 1));
  }

  /** Names of the keys in the last snapshot (metrics drop the series of the others). */
  names(): Set<string> {
    return new Set([...this.snapshot.values()].map((e) => e.record.name));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
