/**
 * One connection pool per upstream origin (shared by every target on that origin), or the
 * in-process mock for `mock://` targets. Built once at start; the hot path only looks them up.
 */
import { Pool } from "undici";
import type { GatewayConfig, TargetConfig } from "../config/schema";
import { MockDispatcher } from "./mock-dispatcher";
import { connectorWithSocketInfo, FreshConnectionDispatcher } from "./stale-connection";
import type { UpstreamDispatcher } from "./upstream-dispatcher";

export type { UpstreamDispatcher };

/** Where a target's requests go: its dispatcher and the path prefix from its base URL. */
export interface UpstreamEndpoint {
  dispatcher: UpstreamDispatcher;
  /** For the one retry after a stale keep-alive connection reset (stale-connection.ts): a new connection each time. */
  fresh: UpstreamDispatcher;
  origin: string;
  pathPrefix: string;
}

export class Dispatchers {
  private readonly pools = new Map<string, Pool>();
  /** Per origin, the pool behind its FreshConnectionDispatcher (no connection until a retry needs one). */
  private readonly freshPools = new Map<string, Pool>();
  private readonly mocks: MockDispatcher[] = [];

  constructor(private readonly defaults: GatewayConfig["upstreamDefaults"]) {}

  endpointFor(target: TargetConfig): UpstreamEndpoint {
    if (target.baseUrl.startsWith("mock://")) {
      const mock = new MockDispatcher(target);
      this.mocks.push(mock);
      return { dispatcher: mock, fresh: mock, origin: target.baseUrl, pathPrefix: "" };
    }
    const url = new URL(target.baseUrl);
    let pool = this.pools.get(url.origin);
    if (pool === undefined) {
      pool = this.newPool(url.origin);
      this.pools.set(url.origin, pool);
      this.freshPools.set(url.origin, this.newPool(url.origin));
    }
    const fresh = new FreshConnectionDispatcher(this.freshPools.get(url.origin)!);
    return { dispatcher: pool, fresh, origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, "") };
  }

  async close(): Promise<void> {
    await Promise.all(this.allPools().map((pool) => pool.close().catch(() => pool.destroy())));
  }

  /** Drops every connection at once (after the shutdown grace period). */
  async destroy(): Promise<void> {
    await Promise.all(this.allPools().map((pool) => pool.destroy()));
  }

  private allPools(): Pool[] {
    return [...this.pools.values(), ...this.freshPools.values()];
  }

  private newPool(origin: string): Pool {
    return new Pool(origin, {
      connections: this.defaults.connectionsPerTarget,
      connect: connectorWithSocketInfo({ timeout: this.defaults.connectTimeoutMs }),
      // An idle connection closed by the gateway before the upstream closes it cannot go stale
      // under a request (stale-connection.ts). An upstream's `keep-alive: timeout=N` hint is
      // followed, less undici's 2 s margin (keepAliveTimeoutThreshold's default).
      keepAliveTimeout: this.defaults.idleConnectionMs,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
    });
  }
}
