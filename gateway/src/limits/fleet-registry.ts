/**
 * How many gateway replicas share the limits, as last seen in Redis: every replica (every worker
 * process, in multi-process mode) refreshes its own entry in one sorted set, scored by when it
 * expires, every `heartbeatMs`; entries not refreshed for `ttlMs` are swept. When Redis goes
 * down, the last count read is what each replica divides its limits by (./fleet-share.ts), so
 * N replicas on local limits admit about one limit in total instead of N. The count is never
 * below `minSize`, the processes this replica knows of without Redis (its multi-process group):
 * a worker started during an outage still shares with its siblings.
 */
import { randomBytes } from "node:crypto";
import type { RedisClient } from "../store/redis-client";
import { redisKeys } from "../store/redis-keys";
import type { LoggerPort } from "../traffic/metrics-port";

/** KEYS[1] the fleet set; ARGV: member, ttlMs. Returns the live count, this replica included. */
const HEARTBEAT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])`;

export interface FleetOptions {
  prefix: string;
  /** How often this replica says it is alive (default 2 s). */
  heartbeatMs?: number;
  /** A replica silent this long no longer counts (default 3 heartbeats). */
  ttlMs?: number;
  /** Processes known without Redis (the workers of this multi-process group; default 1). */
  minSize?: number;
  logger: LoggerPort;
}

type Scripted = { aigwFleetBeat(numKeys: number, ...args: (string | number)[]): Promise<number> };

export class FleetRegistry {
  readonly member = `${process.pid}-${randomBytes(4).toString("hex")}`;
  private known: number;
  private readonly minSize: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly key: string;
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;

  constructor(
    private readonly client: RedisClient,
    private readonly options: FleetOptions,
  ) {
    this.key = redisKeys.fleet(options.prefix);
    this.minSize = Math.max(1, options.minSize ?? 1);
    this.known = this.minSize;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.ttlMs = options.ttlMs ?? this.heartbeatMs * 3;
    if (typeof (client as unknown as Partial<Scripted>).aigwFleetBeat !== "function") client.defineCommand("aigwFleetBeat", { lua: HEARTBEAT_LUA });
  }

  /** Replicas sharing the limits, this one included, as last read from Redis (`minSize` before the first read, and at least that). */
  get size(): number {
    return this.known;
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** One heartbeat; a failure keeps the last known size (that is the point). */
  async beat(): Promise<void> {
    try {
      const read = Number(await (this.client as unknown as Scripted).aigwFleetBeat(1, this.key, this.member, this.ttlMs));
      if (!(read >= 1)) return;
      // A sibling whose first heartbeat is not in yet still counts.
      const count = Math.max(read, this.minSize);
      if (count !== this.known) this.options.logger.info({ event: "fleet_size", replicas: count, previous: this.known }, "replicas sharing the limits");
      this.known = count;
    } catch {
      // Redis unreachable: the limit store notices and falls back; the size stays as last seen.
    }
  }

  /** Stops the heartbeat and leaves the fleet, so the others' share grows at once. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.client.zrem(this.key, this.member).catch(() => undefined);
  }
}
