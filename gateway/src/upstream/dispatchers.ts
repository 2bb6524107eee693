/**
 * One connection pool per upstream origin (shared by every target on that origin), or the
 * in-process mock for `mock://` targets. Built once at start; the hot path only looks them up.
 */
import { Pool, type Dispatcher } from "undici";
import type { GatewayConfig, TargetConfig } from "../config/schema";
import { MockDispatcher } from "./mock-dispatcher";

export interface UpstreamDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
}

/** Where a target's requests go: its dispatcher and the path prefix from its base URL. */
export interface UpstreamEndpoint {
  dispatcher: UpstreamDispatcher;
  origin: string;
  pathPrefix: string;
}

export class Dispatchers {
  private readonly pools = new Map<string, Pool>();
  private readonly mocks: MockDispatcher[] = [];

  constructor(private readonly defaults: GatewayConfig["upstreamDefaults"]) {}

  endpointFor(target: TargetConfig): UpstreamEndpoint {
    if (target.baseUrl.startsWith("mock://")) {
      const mock = new MockDispatcher(target);
      this.mocks.push(mock);
      return { dispatcher: mock, origin: target.baseUrl, pathPrefix: "" };
    }
    const url = new URL(target.baseUrl);
    let pool = this.pools.get(url.origin);
    if (pool === undefined) {
      pool = new Pool(url.origin, {
        connections: this.defaults.connectionsPerTarget,
        connectTimeout: this.defaults.connectTimeoutMs,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        pipelining: 1,
      });
      this.pools.set(url.origin, pool);
    }
    return { dispatcher: pool, origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, "") };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close().catch(() => pool.destroy())));
  }

  /** Drops every connection at once (after the shutdown grace period). */
  async destroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}
