/**
 * Model pools: the request's `model` picks a pool; each pool has its targets, its balancer
 * and its fallback chain. Candidate selection skips unhealthy and already-tried targets.
 */
import type { GatewayConfig, ModelConfig } from "../config/schema";
import { createBalancer, type Balancer } from "./balancer";
import { TargetState } from "./target-state";

/** A target state to keep for (model, target config), or undefined for a new one. */
export type ReuseTarget = (model: string, target: ModelConfig["targets"][number]) => TargetState | undefined;

export class ModelPool {
  readonly targets: TargetState[];
  /** The model names its targets send (and are billed) upstream, for the price table. */
  readonly upstreamModels: readonly string[];
  /** This pool, then its fallbacks, in the order they are tried. */
  chain: ModelPool[] = [];
  private readonly balancer: Balancer;

  constructor(readonly config: ModelConfig, passive: GatewayConfig["passiveHealth"], reuse?: ReuseTarget) {
    this.targets = config.targets.map((target) => reuse?.(config.name, target) ?? new TargetState(config.name, target, passive));
    this.upstreamModels = [...new Set(config.targets.map((target) => target.model ?? config.name))];
    this.balancer = createBalancer(config.strategy);
  }

  get name(): string {
    return this.config.name;
  }

  healthyCount(now: number): number {
    let count = 0;
    for (const target of this.targets) if (target.isAvailable(now)) count++;
    return count;
  }

  /** Whether some target is healthy, rate-limit cooldowns aside (readiness). */
  hasHealthyTarget(now: number): boolean {
    return this.targets.some((target) => target.isHealthy(now));
  }

  /** The next target to try, or null when every available target was tried. */
  pick(now: number, tried: ReadonlySet<TargetState>): TargetState | null {
    if (this.targets.length === 1) {
      const only = this.targets[0];
      return only.isAvailable(now) && !tried.has(only) ? only : null;
    }
    // Usually every target is a candidate: then the list itself, no filtered copy per request.
    let every = true;
    for (const t of this.targets) {
      if (!t.isAvailable(now) || tried.has(t)) {
        every = false;
        break;
      }
    }
    return this.balancer.pick(every ? this.targets : this.targets.filter((t) => t.isAvailable(now) && !tried.has(t)));
  }
}

export class Router {
  readonly pools = new Map<string, ModelPool>();
  /** Every target once, for health checks and metrics. */
  readonly allTargets: TargetState[] = [];

  /** `reuse` hands back a live target unchanged by a config reload, so its health and latency carry over. */
  constructor(config: GatewayConfig, reuse?: ReuseTarget) {
    for (const model of config.models) {
      const pool = new ModelPool(model, config.passiveHealth, reuse);
      this.pools.set(model.name, pool);
      this.allTargets.push(...pool.targets);
    }
    for (const pool of this.pools.values()) {
      pool.chain = [pool, ...pool.config.fallbacks.map((name) => this.pools.get(name)!)];
    }
  }

  resolve(model: string): ModelPool | undefined {
    return this.pools.get(model);
  }

  /** Models none of whose chain has a healthy target (what /readyz reports); rate-limited targets still count as healthy. */
  unservableModels(now: number): string[] {
    const out: string[] = [];
    for (const pool of this.pools.values()) {
      if (!pool.chain.some((p) => p.hasHealthyTarget(now))) out.push(pool.name);
    }
    return out;
  }
}
