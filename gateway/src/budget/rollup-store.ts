/**
 * Where daily spend rollups live. Requests add to an in-process pending map (no I/O on the hot
 * path); every `flushIntervalMs` the pending additions go to Redis, one pipeline of HINCRBY per day
 * (atomic, so replicas add up exactly) with an EXPIRE per day hash for the retention. A failed
 * flush keeps its additions for the next one. Without Redis the rollups stay in this process:
 * the admin API then says its figures are this replica's only.
 */
import type { RedisClient } from "../store/redis-client";
import type { LoggerPort } from "../traffic/metrics-port";
import { COUNTERS, fieldsOf, type Counters, type SpendSubject } from "./rollup";
import { redisKeys } from "../store/redis-keys";

export interface RollupStoreOptions {
  /** Days are kept this many months (31 days each) after their last write. */
  retentionMonths: number;
  flushIntervalMs: number;
  logger: LoggerPort;
  onStoreError?: () => void;
  /** Most distinct day × field entries waiting for a flush; more are dropped (and logged) while Redis is away. */
  maxPendingFields?: number;
}

const DAY_SECONDS = 86_400;

export class RollupStore {
  /** Additions not yet written: date → field → amount. */
  private pending = new Map<string, Map<string, number>>();
  private pendingFields = 0;
  private dropped = 0;
  /** Without Redis: every kept day, date → field → total. */
  private readonly memory = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private readonly maxPendingFields: number;

  constructor(
    private readonly redis: RedisClient | null,
    private readonly prefix: string,
    private readonly options: RollupStoreOptions,
  ) {
    this.maxPendingFields = options.maxPendingFields ?? 200_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** `fleet`: Redis holds every replica's rollups; `replica`: this process's only. */
  get scope(): "fleet" | "replica" {
    return this.redis ? "fleet" : "replica";
  }

  dayKey(date: string): string {
    return redisKeys.spendDay(this.prefix, date);
  }

  /** Adds one request's counters to `date` (cheap: map updates only). */
  add(date: string, subject: SpendSubject, counters: Counters): void {
    const target = this.redis ? this.pending : this.memory;
    let fields = target.get(date);
    if (!fields) target.set(date, (fields = new Map()));
    const names = fieldsOf(subject);
    for (let i = 0; i < COUNTERS.length; i++) {
      const value = counters[COUNTERS[i]];
      if (value === 0) continue;
      const field = names[i];
      const before = fields.get(field);
      if (before === undefined && this.redis) {
        if (this.pendingFields >= this.maxPendingFields) {
          this.dropped++;
          continue;
        }
        this.pendingFields++;
      }
      fields.set(field, (before ?? 0) + value);
    }
    if (!this.redis) this.pruneMemory(date);
  }

  /** Writes pending additions to Redis; resolves when done (or failed and kept for next time). */
  flush(): Promise<void> {
    if (!this.redis || this.pending.size === 0) return this.flushing ?? Promise.resolve();
    if (this.flushing) return this.flushing.then(() => this.flush());
    const batch = this.pending;
    this.pending = new Map();
    this.pendingFields = 0;
    const redis = this.redis;
    const ttl = this.options.retentionMonths * 31 * DAY_SECONDS;
    // One pipeline per day: on a Redis Cluster the days' hashes sit on different slots, and a
    // pipeline must stay on one node (the client refuses it otherwise).
    const days = [...batch].map(async ([date, fields]) => {
      const key = this.dayKey(date);
      const pipeline = redis.pipeline();
      for (const [field, value] of fields) pipeline.hincrby(key, field, value);
      pipeline.expire(key, ttl);
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err !== null);
      if (failed) throw failed[0];
    });
    this.flushing = Promise.allSettled(days)
      .then((outcomes) => {
        const failed = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ date: [...batch.keys()][i], err: outcome.reason as unknown }] : []));
        if (failed.length === 0) return;
        // HINCRBY is all or nothing per field; a day whose pipeline failed part-way may re-add what
        // was written, so only the failed days are retried: said in the log.
        this.options.onStoreError?.();
        const err = failed[0].err;
        this.options.logger.warn({ store: "redis", err: err instanceof Error ? err.message : String(err), days: failed.map((f) => f.date) }, "spend rollup flush failed; retrying with the next flush");
        this.requeue(new Map(failed.map((f) => [f.date, batch.get(f.date)!])));
      })
      .finally(() => {
        this.flushing = null;
        if (this.dropped > 0) {
          this.options.logger.warn({ store: "redis", droppedFields: this.dropped }, "spend rollups dropped while redis was unreachable");
          this.dropped = 0;
        }
      });
    return this.flushing;
  }

  private requeue(batch: Map<string, Map<string, number>>): void {
    for (const [date, fields] of batch) {
      let into = this.pending.get(date);
      if (!into) this.pending.set(date, (into = new Map()));
      for (const [field, value] of fields) {
        const before = into.get(field);
        if (before === undefined) {
          if (this.pendingFields >= this.maxPendingFields) {
            this.dropped++;
            continue;
          }
          this.pendingFields++;
        }
        into.set(field, (before ?? 0) + value);
      }
    }
  }

  /** The stored fields of each date (Redis: every replica's flushed additions, this one's flushed first). */
  async read(dates: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    if (!this.redis) {
      for (const date of dates) {
        const fields = this.memory.get(date);
        if (fields) out.set(date, Object.fromEntries([...fields].map(([f, v]) => [f, String(v)])));
      }
      return out;
    }
    await this.flush();
    const redis = this.redis;
    // One command per day (each day's hash may be on its own cluster slot); sent together.
    const values = await Promise.all(dates.map((date) => redis.hgetall(this.dayKey(date))));
    values.forEach((value, i) => {
      if (Object.keys(value).length > 0) out.set(dates[i], value);
    });
    return out;
  }

  /** Drops in-memory days past the retention (the newest date written sets "now"). */
  private pruneMemory(latest: string): void {
    if (this.memory.size <= this.options.retentionMonths * 31) return;
    const cutoff = new Date(Date.parse(`${latest}T00:00:00Z`) - this.options.retentionMonths * 31 * DAY_SECONDS * 1000).toISOString().slice(0, 10);
    for (const date of this.memory.keys()) if (date < cutoff) this.memory.delete(date);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
