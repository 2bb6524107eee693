/**
 * Target choice for one model: round-robin, smooth weighted round-robin (as nginx), least-busy,
 * and latency (power of two choices over EWMA latency × in-flight). Pure: no I/O, no clocks.
 */
import type { Strategy } from "../config/schema";
import type { TargetState } from "./target-state";

export interface Balancer {
  /** Picks among `candidates` (already filtered to available, untried targets); null when empty. */
  pick(candidates: readonly TargetState[]): TargetState | null;
}

class RoundRobin implements Balancer {
  private next = 0;
  pick(candidates: readonly TargetState[]): TargetState | null {
    if (candidates.length === 0) return null;
    const chosen = candidates[this.next % candidates.length];
    this.next = (this.next + 1) % 1_000_000_007;
    return chosen;
  }
}

/** nginx's smooth weighted round-robin: spreads heavy targets instead of bunching them. */
class SmoothWeighted implements Balancer {
  private readonly current = new Map<TargetState, number>();
  pick(candidates: readonly TargetState[]): TargetState | null {
    if (candidates.length === 0) return null;
    let total = 0;
    let best: TargetState | null = null;
    let bestScore = -Infinity;
    for (const target of candidates) {
      const score = (this.current.get(target) ?? 0) + target.config.weight;
      this.current.set(target, score);
      total += target.config.weight;
      if (score > bestScore) {
        bestScore = score;
        best = target;
      }
    }
    this.current.set(best!, bestScore - total);
    return best;
  }
}

class LeastBusy implements Balancer {
  private offset = 0;
  pick(candidates: readonly TargetState[]): TargetState | null {
    if (candidates.length === 0) return null;
    // Rotate the starting point so ties do not always land on the first target.
    this.offset = (this.offset + 1) % candidates.length;
    let best = candidates[this.offset];
    for (let i = 1; i < candidates.length; i++) {
      const target = candidates[(this.offset + i) % candidates.length];
      if (target.inflight < best.inflight) best = target;
    }
    return best;
  }
}

/** Lower is better; an unmeasured target scores as fast so it gets explored. */
export function latencyScore(target: TargetState): number {
  return (target.ewmaMs || 1) * (target.inflight + 1);
}

class PowerOfTwoLatency implements Balancer {
  constructor(private readonly random: () => number) {}
  pick(candidates: readonly TargetState[]): TargetState | null {
    if (candidates.length <= 1) return candidates[0] ?? null;
    const first = Math.floor(this.random() * candidates.length);
    let second = Math.floor(this.random() * (candidates.length - 1));
    if (second >= first) second += 1;
    const a = candidates[first];
    const b = candidates[second];
    return latencyScore(b) < latencyScore(a) ? b : a;
  }
}

export function createBalancer(strategy: Strategy, random: () => number = Math.random): Balancer {
  switch (strategy) {
    case "round-robin":
      return new RoundRobin();
    case "weighted":
      return new SmoothWeighted();
    case "least-busy":
      return new LeastBusy();
    case "latency":
      return new PowerOfTwoLatency(random);
  }
}
