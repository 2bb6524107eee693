/**
 * `aigw_target_health_info{model,target,state,reason}`: one series per target at a time, value 1,
 * for its current state and reason (TargetState.healthInfo); the previous series is removed when
 * either changes, so the series count stays one per target.
 */
import type { Gauge } from "prom-client";
import type { TargetState } from "../routing/target-state";

export class TargetHealthInfo {
  /** The labels each target's series has now. */
  private readonly current = new Map<TargetState, { state: string; reason: string }>();

  constructor(private readonly gauge: Gauge<string>) {}

  refresh(targets: readonly TargetState[], now: number): void {
    for (const target of targets) {
      const info = target.healthInfo(now);
      const before = this.current.get(target);
      if (before !== undefined && before.state === info.state && before.reason === info.reason) continue;
      if (before !== undefined) this.gauge.remove(target.model, target.name, before.state, before.reason);
      this.gauge.labels(target.model, target.name, info.state, info.reason).set(1);
      this.current.set(target, info);
    }
  }
}
