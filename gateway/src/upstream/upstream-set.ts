/**
 * The upstream side built from a config: model pools and their router, connection pools,
 * prepared targets, active health checks and the forwarder. A config reload builds a new set
 * and swaps it in; requests already forwarding keep the targets and pools they picked, because:
 * - targets whose config did not change are the same objects in the new set (health, latency
 *   and in-flight counts carry over), and so are their connection pools;
 * - the prepared-target table is shared by every set, and a target that left stays in it until
 *   no request can still pick it (the longest time to a first byte, plus a margin); only then
 *   are connection pools no set uses any more closed, gracefully, so streams finish first.
 */
import { isDeepStrictEqual } from "node:util";
import type { GatewayConfig } from "../config/schema";
import type { BufferBudget } from "../http/buffer-budget";
import type { Logger } from "../log";
import type { GatewayMetrics } from "../metrics/registry";
import { Router } from "../routing/router";
import type { TargetState } from "../routing/target-state";
import { Dispatchers } from "./dispatchers";
import { Forwarder } from "./forward";
import { HealthChecker } from "./health-checker";
import { prepareTarget, type PreparedTarget } from "./prepared-target";

export interface UpstreamSet {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly forwarder: Forwarder;
  readonly dispatchers: Dispatchers;
  readonly healthChecker: HealthChecker;
}

export interface UpstreamDeps {
  metrics: GatewayMetrics;
  logger: Logger;
  buffers: BufferBudget;
}

/** Extra time a retired target stays resolvable past the request deadline. */
const RETIRE_MARGIN_MS = 30_000;

/** Connection settings: when they change, targets need new connection pools. */
function poolSettings(config: GatewayConfig): unknown {
  const { connectTimeoutMs, connectionsPerTarget, idleConnectionMs } = config.upstreamDefaults;
  return { connectTimeoutMs, connectionsPerTarget, idleConnectionMs };
}

export class LiveUpstreams {
  private currentSet: UpstreamSet;
  /** Every set's targets: a request that picked its pools before a swap still finds them. */
  private readonly prepared = new Map<TargetState, PreparedTarget>();
  private readonly retiring = new Set<{ timer: NodeJS.Timeout; states: TargetState[]; dispatchers: Dispatchers | null }>();

  constructor(config: GatewayConfig, private readonly deps: UpstreamDeps) {
    this.currentSet = this.build(config, null);
  }

  get current(): UpstreamSet {
    return this.currentSet;
  }

  /** Builds the set for `config`, reusing what did not change, and makes it current; the old one retires. */
  swap(config: GatewayConfig): UpstreamSet {
    const old = this.currentSet;
    const next = this.build(config, old);
    this.currentSet = next;
    old.healthChecker.stop();
    next.healthChecker.start();
    const kept = new Set(next.router.allTargets);
    const retired = old.router.allTargets.filter((state) => !kept.has(state));
    for (const state of retired) {
      if (!next.router.allTargets.some((s) => s.model === state.model && s.name === state.name)) this.deps.metrics.targetUp.remove(state.model, state.name);
    }
    for (const model of old.router.pools.keys()) if (!next.router.pools.has(model)) this.deps.metrics.modelHealthyTargets.remove(model);
    const dispatchers = next.dispatchers === old.dispatchers ? null : old.dispatchers;
    if (retired.length > 0 || dispatchers) {
      const entry = { timer: setTimeout(() => this.finishRetiring(entry), old.config.upstreamDefaults.deadlineMs + RETIRE_MARGIN_MS), states: retired, dispatchers };
      entry.timer.unref();
      this.retiring.add(entry);
    }
    return next;
  }

  private finishRetiring(entry: { timer: NodeJS.Timeout; states: TargetState[]; dispatchers: Dispatchers | null }): void {
    this.retiring.delete(entry);
    for (const state of entry.states) this.prepared.delete(state);
    // close() lets requests and streams still on these pools finish.
    void entry.dispatchers?.close();
  }

  private build(config: GatewayConfig, previous: UpstreamSet | null): UpstreamSet {
    const samePools = previous !== null && isDeepStrictEqual(poolSettings(previous.config), poolSettings(config));
    const dispatchers = samePools ? previous.dispatchers : new Dispatchers(config.upstreamDefaults);
    const samePassive = previous !== null && isDeepStrictEqual(previous.config.passiveHealth, config.passiveHealth);
    const sameTimeout = previous !== null && previous.config.upstreamDefaults.timeoutMs === config.upstreamDefaults.timeoutMs;
    const reusable = new Map<string, TargetState>();
    if (previous && samePools && samePassive && sameTimeout) for (const state of previous.router.allTargets) reusable.set(state.id, state);
    const router = new Router(config, (model, target) => {
      const state = reusable.get(`${model}/${target.name}`);
      return state && isDeepStrictEqual(state.config, target) ? state : undefined;
    });
    const targets: PreparedTarget[] = [];
    for (const state of router.allTargets) {
      let prepared = this.prepared.get(state);
      if (prepared === undefined) {
        prepared = prepareTarget(state, dispatchers, config.upstreamDefaults);
        this.prepared.set(state, prepared);
      }
      targets.push(prepared);
    }
    const { metrics, logger, buffers } = this.deps;
    return {
      config,
      router,
      dispatchers,
      healthChecker: new HealthChecker(targets, config.healthCheck, logger),
      forwarder: new Forwarder(this.prepared, config.upstreamDefaults, metrics, logger, { buffers, writeTimeoutMs: config.server.writeTimeoutMs }),
    };
  }

  /** Shutdown: stop checks, drop every connection of every set. */
  async destroy(): Promise<void> {
    this.currentSet.healthChecker.stop();
    const pools = new Set<Dispatchers>([this.currentSet.dispatchers]);
    for (const entry of this.retiring) {
      clearTimeout(entry.timer);
      if (entry.dispatchers) pools.add(entry.dispatchers);
    }
    this.retiring.clear();
    await Promise.all([...pools].map((d) => d.destroy()));
  }
}
