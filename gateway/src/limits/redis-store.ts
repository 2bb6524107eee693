/**
 * The shared limit store: admissions and settlements run in Lua scripts, atomic across replicas.
 * The admissions of one event-loop turn go to Redis together as one script call (and the
 * settlements likewise; ./script-batcher.ts), evaluated in arrival order, each with the result
 * it would have had alone. ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (after a
 * Redis restart). Concurrency slots are leases that this replica renews while they are held,
 * for at most `leaseMaxMs`: a release that never comes then frees the slot one TTL later.
 *
 * On a Redis Cluster a script may only touch one slot: a turn's batch is cut into one script
 * call per slot, and a request whose keys span slots (a key with a team budget: see
 * ../store/redis-keys.ts) is admitted part by part, its own limits first, the earlier parts
 * undone when a later one refuses (./slot-split.ts). Between the two a concurrent request may
 * be refused for room the undone part held for a moment: never admitted beyond a limit.
 */
import { isCluster, type RedisClient } from "../store/redis-client";
import { keySlot } from "../store/key-slot";
import { ADMIT_LUA, RENEW_LUA, SETTLE_LUA } from "./lua";
import { DEFAULT_LEASE_MAX_MS } from "./memory-store";
import { redisKeys } from "../store/redis-keys";
import { ScriptBatcher } from "./script-batcher";
import { mergeAdmit, singleSlotOf, splitAdmit, splitSettle, undoOf } from "./slot-split";
import type { AdmitInput, AdmitResult, FailedCheck, LimitStore, RateStatus, SettleInput, SettleResult } from "./store";

/** Where a budget's reservations live, next to its spend key. */
const reservationSet = redisKeys.reservations;
const reservationTotal = redisKeys.reservedTotal;
const reservationMember = (leaseId: string, nano: number): string => `${leaseId}|${Math.round(nano)}`;

/** ioredis flattens array arguments: (numKeys, keys, args) sends numKeys, ...keys, ...args. */
type ScriptFn = (numKeys: number, ...args: (string | number | (string | number)[])[]) => Promise<unknown>;

interface ScriptedRedis {
  aigwAdmit: ScriptFn;
  aigwSettle: ScriptFn;
  aigwRenew: ScriptFn;
}

export interface RedisStoreOptions {
  /** Prepended to every key (config `redis.keyPrefix`). */
  prefix: string;
  /** A slot held by a replica that stopped renewing it is freed after this long. */
  leaseTtlMs?: number;
  /** Leases are renewed for this long at most after admission (no request legitimately runs longer). */
  leaseMaxMs?: number;
  /** Most requests in one script call (default 256); more in one turn make several calls. */
  maxBatch?: number;
}

const FAIL_KINDS: Record<number, FailedCheck["kind"]> = { 1: "budget", 2: "rate", 3: "concurrency" };

/** Adds the scripts to a client once (ioredis keeps them per client). */
function withScripts(client: RedisClient): ScriptedRedis {
  const scripted = client as unknown as Partial<ScriptedRedis>;
  if (typeof scripted.aigwAdmit !== "function") {
    client.defineCommand("aigwAdmit", { lua: ADMIT_LUA });
    client.defineCommand("aigwSettle", { lua: SETTLE_LUA });
    client.defineCommand("aigwRenew", { lua: RENEW_LUA });
    // Already batched per turn here: ioredis's auto-pipeline would only hold each batch one more
    // turn (its own setImmediate) and wrap it in a pipeline. Other commands keep auto-pipelining.
    const ignored = client.options.autoPipeliningIgnoredCommands ?? [];
    client.options.autoPipeliningIgnoredCommands = [...ignored, "aigwAdmit", "aigwSettle"];
  }
  return client as unknown as ScriptedRedis;
}

/** A script reply that is not one array per request means a protocol mismatch: fail the batch. */
function replies(reply: unknown, count: number): number[][] {
  if (!Array.isArray(reply) || reply.length !== count) throw new Error(`limit script answered ${Array.isArray(reply) ? reply.length : typeof reply} replies for ${count} requests`);
  return reply as number[][];
}

export class RedisStore implements LimitStore {
  readonly kind = "redis" as const;
  private readonly scripts: ScriptedRedis;
  private readonly prefix: string;
  private readonly leaseTtlMs: number;
  private readonly leaseMaxMs: number;
  /**
   * Leases this replica holds (concurrency slots and budget reservations): lease id → its
   * [sorted-set key, member] pairs, and when renewals stop (ms).
   */
  private readonly leases = new Map<string, { members: [string, string][]; renewUntil: number }>();
  private readonly renewer: NodeJS.Timeout;
  private readonly admissions: ScriptBatcher<AdmitInput, AdmitResult>;
  private readonly settlements: ScriptBatcher<SettleInput, SettleResult>;
  /** A Redis Cluster: one script call per slot. */
  private readonly clustered: boolean;

  constructor(client: RedisClient, options: RedisStoreOptions) {
    this.scripts = withScripts(client);
    this.prefix = options.prefix;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.leaseMaxMs = options.leaseMaxMs ?? DEFAULT_LEASE_MAX_MS;
    this.clustered = isCluster(client);
    const admitRun = (batch: readonly AdmitInput[]) => this.admitBatch(batch);
    const settleRun = (batch: readonly SettleInput[]) => this.settleBatch(batch);
    this.admissions = new ScriptBatcher(this.clustered ? (batch) => this.perSlot(batch, admitRun) : admitRun, options.maxBatch);
    this.settlements = new ScriptBatcher(this.clustered ? (batch) => this.perSlot(batch, settleRun) : settleRun, options.maxBatch);
    this.renewer = setInterval(() => void this.renewLeases().catch(() => undefined), Math.max(100, Math.floor(this.leaseTtlMs / 3)));
    this.renewer.unref();
  }

  admit(input: AdmitInput): Promise<AdmitResult> {
    if (this.clustered && singleSlotOf(input, this.prefix) === null) return this.admitAcrossSlots(input);
    return this.admissions.submit(input);
  }

  settle(input: SettleInput): Promise<SettleResult> {
    // Forget the leases first: if Redis is down they expire on their own.
    if (input.concurrency) this.leases.delete(input.concurrency.leaseId);
    for (const r of input.reservations ?? []) this.leases.delete(r.leaseId);
    if (this.clustered && singleSlotOf(input, this.prefix) === null) return this.settleAcrossSlots(input);
    return this.settlements.submit(input);
  }

  /** Cluster: the batch's requests grouped by slot, one script call per slot, answers in batch order. */
  private async perSlot<I extends AdmitInput | SettleInput, O>(batch: readonly I[], run: (group: readonly I[]) => Promise<O[]>): Promise<O[]> {
    const groups = new Map<number, number[]>();
    batch.forEach((input, i) => {
      const slot = singleSlotOf(input, this.prefix) ?? 0;
      const group = groups.get(slot);
      if (group) group.push(i);
      else groups.set(slot, [i]);
    });
    if (groups.size === 1) return run(batch);
    const out = new Array<O>(batch.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const results = await run(indexes.map((i) => batch[i]));
        indexes.forEach((i, j) => (out[i] = results[j]));
      }),
    );
    return out;
  }

  /** Cluster: a request over several slots, part by part; a refusal undoes the parts before it. */
  private async admitAcrossSlots(input: AdmitInput): Promise<AdmitResult> {
    const parts = splitAdmit(input, this.prefix);
    const answered: AdmitResult[] = [];
    for (const part of parts) {
      const result = await this.admissions.submit(part.input);
      answered.push(result);
      if (!result.allowed) break;
    }
    const merged = mergeAdmit(input, parts, answered, this);
    if (!merged.allowed) {
      for (let p = 0; p < answered.length; p++) if (answered[p].allowed) void this.settle(undoOf(parts[p])).catch(() => undefined);
    }
    return merged;
  }

  private async settleAcrossSlots(input: SettleInput): Promise<SettleResult> {
    const parts = splitSettle(input, this.prefix);
    const results = await Promise.all(parts.map((part) => this.settlements.submit(part.input)));
    const spentNano = input.spends.map(() => Number.NaN);
    parts.forEach((part, p) => part.spendIndexes.forEach((original, j) => (spentNano[original] = results[p].spentNano[j])));
    return { spentNano };
  }

  /** One ADMIT_LUA call for the batch: per request its keys, and its segment after the count. */
  private async admitBatch(batch: readonly AdmitInput[]): Promise<AdmitResult[]> {
    const prefix = this.prefix;
    const keys: string[] = [];
    const args: (string | number)[] = [batch.length];
    for (const input of batch) {
      args.push(input.budgets.length, input.rates.length, input.concurrency ? 1 : 0, input.leaseId ?? "", this.leaseTtlMs);
      for (const budget of input.budgets) {
        const key = prefix + budget.key;
        keys.push(key, reservationSet(key), reservationTotal(key));
        args.push(budget.limitNano, Math.max(0, Math.round(budget.reserveNano ?? 0)));
      }
      for (const rate of input.rates) {
        keys.push(prefix + rate.key);
        args.push(rate.limit, rate.periodMs, rate.cost, rate.sticky ? 1 : 0);
      }
      const conc = input.concurrency;
      if (conc) {
        keys.push(prefix + conc.key);
        args.push(conc.limit, conc.leaseId, this.leaseTtlMs);
      }
    }
    const all = replies(await this.scripts.aigwAdmit(keys.length, keys, args), batch.length);
    return batch.map((input, i) => this.admitResult(input, all[i]));
  }

  private admitResult(input: AdmitInput, reply: number[]): AdmitResult {
    const allowed = reply[0] === 1;
    const failKind = FAIL_KINDS[reply[1]];
    const failed: FailedCheck | null = failKind === undefined ? null : failKind === "concurrency" ? { kind: "concurrency", index: 0 } : { kind: failKind, index: reply[2] - 1 };
    let at = 4;
    const spentNano = input.budgets.map(() => Number(reply[at++]));
    const heldNano = input.budgets.map(() => Number(reply[at++]));
    const rates: RateStatus[] = input.rates.map(() => {
      const status = { remaining: Number(reply[at]), resetMs: Number(reply[at + 1]) };
      at += 2;
      return status;
    });
    if (allowed) this.holdLeases(input);
    return { allowed, failed, retryAfterMs: allowed ? 0 : Number(reply[3]), rates, spentNano, heldNano, store: this };
  }

  /** Remembers an admission's concurrency lease and reservations, to renew them while it runs. */
  private holdLeases(input: AdmitInput): void {
    const conc = input.concurrency;
    const renewUntil = Date.now() + this.leaseMaxMs;
    if (conc) this.leases.set(conc.leaseId, { members: [[this.prefix + conc.key, conc.leaseId]], renewUntil });
    if (!input.leaseId) return;
    for (const budget of input.budgets) {
      if (!((budget.reserveNano ?? 0) > 0)) continue;
      const held = this.leases.get(input.leaseId) ?? { members: [], renewUntil };
      held.members.push([reservationSet(this.prefix + budget.key), reservationMember(input.leaseId, budget.reserveNano ?? 0)]);
      this.leases.set(input.leaseId, held);
    }
  }

  /** One SETTLE_LUA call for the batch, laid out as admitBatch's. */
  private async settleBatch(batch: readonly SettleInput[]): Promise<SettleResult[]> {
    const prefix = this.prefix;
    const keys: string[] = [];
    const args: (string | number)[] = [batch.length];
    for (const input of batch) {
      const reservations = input.reservations ?? [];
      args.push(input.rates.length, input.concurrency ? 1 : 0, input.spends.length, reservations.length);
      for (const rate of input.rates) {
        keys.push(prefix + rate.key);
        args.push(rate.limit, rate.periodMs, rate.delta);
      }
      if (input.concurrency) {
        keys.push(prefix + input.concurrency.key);
        args.push(input.concurrency.leaseId);
      }
      for (const spend of input.spends) {
        keys.push(prefix + spend.key);
        args.push(Math.round(spend.addNano), spend.ttlMs);
      }
      for (const r of reservations) {
        const key = prefix + r.key;
        keys.push(reservationSet(key), reservationTotal(key));
        args.push(reservationMember(r.leaseId, r.reserveNano));
      }
    }
    const all = replies(await this.scripts.aigwSettle(keys.length, keys, args), batch.length);
    // -1: that spend was refused by the script (not an integer in range): unknown total.
    return all.map((totals) => ({ spentNano: totals.map((t) => (Number(t) < 0 ? Number.NaN : Number(t))) }));
  }

  /** Renews every lease held here, in one script call; past its max age a lease is let expire. */
  async renewLeases(): Promise<void> {
    const now = Date.now();
    const keys: string[] = [];
    const ids: string[] = [];
    for (const [id, lease] of this.leases) {
      if (lease.renewUntil <= now) {
        this.leases.delete(id);
        continue;
      }
      for (const [key, member] of lease.members) {
        keys.push(key);
        ids.push(member);
      }
    }
    if (keys.length === 0) return;
    if (!this.clustered) {
      await this.scripts.aigwRenew(keys.length, ...keys, this.leaseTtlMs, ...ids);
      return;
    }
    const bySlot = new Map<number, { keys: string[]; ids: string[] }>();
    keys.forEach((key, i) => {
      const slot = keySlot(key);
      const group = bySlot.get(slot) ?? { keys: [], ids: [] };
      group.keys.push(key);
      group.ids.push(ids[i]);
      bySlot.set(slot, group);
    });
    await Promise.all([...bySlot.values()].map((g) => this.scripts.aigwRenew(g.keys.length, ...g.keys, this.leaseTtlMs, ...g.ids)));
  }

  /** Leases held by this replica (tests). */
  get heldLeases(): number {
    return this.leases.size;
  }

  /** Sends the calls of this turn and waits for every answer; the owner closes the connection after. */
  async close(): Promise<void> {
    clearInterval(this.renewer);
    await Promise.all([this.admissions.drain(), this.settlements.drain()]);
  }
}
