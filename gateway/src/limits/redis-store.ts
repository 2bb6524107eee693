/**
 * The shared limit store: every admission and settlement is one Lua script call, so one round
 * trip, atomic across replicas. ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (after
 * a Redis restart). Concurrency slots are leases that this replica renews while they are held.
 */
import type { Redis } from "ioredis";
import { ADMIT_LUA, RENEW_LUA, SETTLE_LUA } from "./lua";
import type { AdmitInput, AdmitResult, FailedCheck, LimitStore, RateStatus, SettleInput, SettleResult } from "./store";

type ScriptFn = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

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
}

const FAIL_KINDS: Record<number, FailedCheck["kind"]> = { 1: "budget", 2: "rate", 3: "concurrency" };

/** Adds the scripts to a client once (ioredis keeps them per client). */
function withScripts(client: Redis): ScriptedRedis {
  const scripted = client as unknown as Partial<ScriptedRedis>;
  if (typeof scripted.aigwAdmit !== "function") {
    client.defineCommand("aigwAdmit", { lua: ADMIT_LUA });
    client.defineCommand("aigwSettle", { lua: SETTLE_LUA });
    client.defineCommand("aigwRenew", { lua: RENEW_LUA });
  }
  return client as unknown as ScriptedRedis;
}

export class RedisStore implements LimitStore {
  readonly kind = "redis" as const;
  private readonly scripts: ScriptedRedis;
  private readonly prefix: string;
  private readonly leaseTtlMs: number;
  /** Leases this replica holds: lease id → prefixed concurrency key. */
  private readonly leases = new Map<string, string>();
  private readonly renewer: NodeJS.Timeout;

  constructor(client: Redis, options: RedisStoreOptions) {
    this.scripts = withScripts(client);
    this.prefix = options.prefix;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.renewer = setInterval(() => void this.renewLeases().catch(() => undefined), Math.max(100, Math.floor(this.leaseTtlMs / 3)));
    this.renewer.unref();
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    const keys: string[] = [];
    const args: (string | number)[] = [input.budgets.length, input.rates.length, input.concurrency ? 1 : 0];
    for (const budget of input.budgets) {
      keys.push(this.prefix + budget.key);
      args.push(budget.limitNano);
    }
    for (const rate of input.rates) {
      keys.push(this.prefix + rate.key);
      args.push(rate.limit, rate.periodMs, rate.cost);
    }
    const conc = input.concurrency;
    if (conc) {
      keys.push(this.prefix + conc.key);
      args.push(conc.limit, conc.leaseId, this.leaseTtlMs);
    }
    const reply = (await this.scripts.aigwAdmit(keys.length, ...keys, ...args)) as number[];
    const allowed = reply[0] === 1;
    const failKind = FAIL_KINDS[reply[1]];
    const failed: FailedCheck | null = failKind === undefined ? null : failKind === "concurrency" ? { kind: "concurrency", index: 0 } : { kind: failKind, index: reply[2] - 1 };
    let at = 4;
    const spentNano = input.budgets.map(() => Number(reply[at++]));
    const rates: RateStatus[] = input.rates.map(() => {
      const status = { remaining: Number(reply[at]), resetMs: Number(reply[at + 1]) };
      at += 2;
      return status;
    });
    if (allowed && conc) this.leases.set(conc.leaseId, this.prefix + conc.key);
    return { allowed, failed, retryAfterMs: allowed ? 0 : Number(reply[3]), rates, spentNano, store: this };
  }

  async settle(input: SettleInput): Promise<SettleResult> {
    const keys: string[] = [];
    const args: (string | number)[] = [input.rates.length, input.concurrency ? 1 : 0, input.spends.length];
    for (const rate of input.rates) {
      keys.push(this.prefix + rate.key);
      args.push(rate.limit, rate.periodMs, rate.delta);
    }
    if (input.concurrency) {
      keys.push(this.prefix + input.concurrency.key);
      args.push(input.concurrency.leaseId);
      // Forget the lease first: if Redis is down it expires on its own.
      this.leases.delete(input.concurrency.leaseId);
    }
    for (const spend of input.spends) {
      keys.push(this.prefix + spend.key);
      args.push(Math.round(spend.addNano), spend.ttlMs);
    }
    const reply = (await this.scripts.aigwSettle(keys.length, ...keys, ...args)) as number[];
    return { spentNano: reply.map(Number) };
  }

  /** Renews every lease held here, in one script call. */
  async renewLeases(): Promise<void> {
    if (this.leases.size === 0) return;
    const keys: string[] = [];
    const ids: string[] = [];
    for (const [id, key] of this.leases) {
      keys.push(key);
      ids.push(id);
    }
    await this.scripts.aigwRenew(keys.length, ...keys, this.leaseTtlMs, ...ids);
  }

  /** Leases held by this replica (tests). */
  get heldLeases(): number {
    return this.leases.size;
  }

  close(): Promise<void> {
    clearInterval(this.renewer);
    return Promise.resolve();
  }
}
