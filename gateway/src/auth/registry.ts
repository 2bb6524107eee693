/**
 * Resolves a presented client key to its ResolvedKey: config keys (hashed at load; the clear
 * key is never kept), then runtime keys from Redis. Unknown keys resolve to null; disabled ones to
 * their record (record.disabled), so a gateway that also serves anonymous requests can still
 * refuse them: a disabled key must not get in as anonymous. The refusal reads as an unknown key's.
 */
import { isReservedName } from "../config/reserved-names";
import type { GatewayConfig } from "../config/schema";
import type { ClientIdentity } from "../traffic/types";
import { digestsEqual, hashKey, keyIdFromDigest } from "./key-hash";
import { resolveKey, type KeyRecord, type ResolvedKey } from "./key-record";
import type { RuntimeKeyStore } from "./runtime-keys";

export class KeyRegistry {
  /** digest → config key. */
  private configKeys = new Map<string, { digest: string; resolved: ResolvedKey }>();
  private configByName = new Map<string, ResolvedKey>();
  /** Runtime records resolved once per record object (the snapshot reuses objects between refreshes of a key). */
  private runtimeResolved = new WeakMap<KeyRecord, ResolvedKey>();
  /** identity object → its key, for admission; kept across reloads so requests in flight keep theirs. */
  private readonly byIdentity = new WeakMap<ClientIdentity, ResolvedKey>();
  private config: Pick<GatewayConfig, "keys" | "plans" | "teams">;

  constructor(
    config: Pick<GatewayConfig, "keys" | "plans" | "teams">,
    private readonly runtime: RuntimeKeyStore | null,
  ) {
    this.config = config;
    this.load(config);
  }

  /** Takes new config keys, plans and teams (a reload): later look-ups resolve against them. */
  reconfigure(config: Pick<GatewayConfig, "keys" | "plans" | "teams">): void {
    this.config = config;
    this.runtimeResolved = new WeakMap();
    this.load(config);
  }

  private load(config: Pick<GatewayConfig, "keys" | "plans" | "teams">): void {
    const configKeys = new Map<string, { digest: string; resolved: ResolvedKey }>();
    const configByName = new Map<string, ResolvedKey>();
    for (const key of config.keys) {
      const digest = key.keyHash ?? hashKey(key.key as string);
      const record: KeyRecord = { id: keyIdFromDigest(digest), name: key.name, team: key.team, plan: key.plan, models: key.models, limits: key.limits, disabled: key.disabled, source: "config", expiresAt: key.expiresAt, owner: key.owner, labels: key.labels };
      const resolved = resolveKey(record, config);
      configKeys.set(digest, { digest, resolved });
      configByName.set(key.name, resolved);
      this.byIdentity.set(resolved.identity, resolved);
    }
    this.configKeys = configKeys;
    this.configByName = configByName;
  }

  /** True when keys can exist (in config, or at run time through the admin API). */
  get hasKeys(): boolean {
    return this.configKeys.size > 0 || this.runtime !== null;
  }

  /** The key for a presented secret (expired and disabled ones included: the caller refuses them), or null (unknown). May throw when Redis fails. */
  async resolve(secret: string): Promise<ResolvedKey | null> {
    return this.resolveNow(secret);
  }

  /** resolve(), answered synchronously when no Redis look-up is needed (config keys, no runtime keys): no promise per request. */
  resolveNow(secret: string): ResolvedKey | null | Promise<ResolvedKey | null> {
    const digest = hashKey(secret);
    const configured = this.configKeys.get(digest);
    if (configured) {
      if (!digestsEqual(configured.digest, digest)) return null;
      return configured.resolved;
    }
    if (!this.runtime) return null;
    return this.resolveRuntime(this.runtime, digest);
  }

  private async resolveRuntime(runtime: RuntimeKeyStore, digest: string): Promise<ResolvedKey | null> {
    const record = await runtime.lookup(digest);
    if (!record) return null;
    // Written before reserved names were refused: such a plan or team would resolve to nothing.
    if (isReservedName(record.name) || isReservedName(record.plan) || isReservedName(record.team)) return null;
    let resolved = this.runtimeResolved.get(record);
    if (!resolved) {
      resolved = resolveKey(record, this.config);
      this.runtimeResolved.set(record, resolved);
      this.byIdentity.set(resolved.identity, resolved);
    }
    return resolved;
  }

  /** The key behind an identity this registry returned (or a config key by name). */
  forIdentity(identity: ClientIdentity): ResolvedKey | null {
    return this.byIdentity.get(identity) ?? this.configByName.get(identity.keyName) ?? null;
  }

  isConfigKey(name: string): boolean {
    return this.configByName.has(name);
  }

  /** A config key by name, without its secret or digest. */
  configRecord(name: string): KeyRecord | null {
    return this.configByName.get(name)?.record ?? null;
  }

  /** Config keys, without secrets or digests. */
  configRecords(): KeyRecord[] {
    return [...this.configByName.values()].map((r) => r.record);
  }
}
