/**
 * Active health checks: each target is probed on its own interval, as its resolved spec says
 * (health-probe-spec.ts: the target's `healthCheck`, its provider's default probe, the global
 * section); rise/fall thresholds decide when it goes down or comes back, as HAProxy's
 * `check rise N fall N`. Every transition is logged with its reason (status, error, latency).
 * Mock targets are not checked: they are always up.
 */
import type { Dispatcher } from "undici";
import type { GatewayConfig } from "../config/schema";
import type { Logger } from "../log";
import { classifyError } from "./failure";
import { resolveProbeSpec, type ProbeSpec } from "./health-probe-spec";
import type { PreparedTarget } from "./prepared-target";

export interface ProbeResult {
  passed: boolean;
  /** The status answered, or null when no answer came. */
  status: number | null;
  /** `timeout`, `connect` or `network` with its code, when no answer came. */
  error: string | null;
  latencyMs: number;
  /** Bounded label for metrics: `ok`, `status_<code>`, `timeout`, `connect`, `network`. */
  reason: string;
}

/** Probes once; never rejects. */
export function probe(target: PreparedTarget, spec: Pick<ProbeSpec, "method" | "path" | "headers" | "body" | "expects" | "timeoutMs">): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let status = 0;
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (status: number | null, error: Error | null) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      if (error !== null || status === null) {
        const failure = classifyError(error ?? new Error("no answer"));
        resolve({ passed: false, status: null, error: `${failure.reason}: ${failure.detail}`.slice(0, 120), latencyMs, reason: failure.reason });
        return;
      }
      const passed = spec.expects(status);
      resolve({ passed, status, error: null, latencyMs, reason: passed ? "ok" : `status_${status}` });
    };
    let controller: Dispatcher.DispatchController | null = null;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
      },
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData() {},
      onResponseEnd() {
        finish(status, null);
      },
      onResponseError(_controller, error) {
        finish(null, error);
      },
    };
    // One timer over the whole probe (connect, headers, body): undici's own are coarse.
    timer = setTimeout(() => {
      const error = Object.assign(new Error("health probe timed out"), { code: "GW_ATTEMPT_TIMEOUT" });
      controller?.abort(error);
      finish(null, error);
    }, spec.timeoutMs);
    timer.unref();
    try {
      target.endpoint.dispatcher.dispatch(
        { method: spec.method, path: target.endpoint.pathPrefix + spec.path, headers: spec.headers, body: spec.body ?? undefined, headersTimeout: spec.timeoutMs, bodyTimeout: spec.timeoutMs },
        handler,
      );
    } catch (err) {
      finish(null, err as Error);
    }
  });
}

interface Checked {
  target: PreparedTarget;
  spec: ProbeSpec;
  timer: NodeJS.Timeout | null;
  running: boolean;
}

export class HealthChecker {
  private readonly checked: Checked[];
  private stopped = false;

  constructor(
    targets: readonly PreparedTarget[],
    global: GatewayConfig["healthCheck"],
    private readonly logger: Logger,
  ) {
    this.checked = targets
      .filter((target) => !target.state.config.baseUrl.startsWith("mock://"))
      .map((target) => ({ target, spec: resolveProbeSpec(target.state.config, global), timer: null, running: false }));
  }

  /** The resolved probe of every checked target (logged at start, read by tests). */
  specs(): { target: PreparedTarget; spec: ProbeSpec }[] {
    return this.checked.map(({ target, spec }) => ({ target, spec }));
  }

  start(): void {
    for (const entry of this.checked) {
      if (!entry.spec.enabled) continue;
      this.logger.debug({ model: entry.target.state.model, target: entry.target.state.name, method: entry.spec.method, path: entry.spec.path, intervalMs: entry.spec.intervalMs, expected: entry.spec.expected }, "active health check scheduled");
      this.schedule(entry);
    }
  }

  private schedule(entry: Checked): void {
    if (this.stopped) return;
    entry.timer = setTimeout(() => {
      void this.checkOne(entry).finally(() => this.schedule(entry));
    }, entry.spec.intervalMs);
    entry.timer.unref();
  }

  /** One probe of each given target (every checked one by default), in parallel. */
  async checkAll(targets?: readonly PreparedTarget[]): Promise<void> {
    const wanted = targets ? this.checked.filter((c) => targets.includes(c.target)) : this.checked;
    await Promise.all(wanted.map((entry) => this.checkOne(entry)));
  }

  /** Probes one target and applies the verdict; a probe still running is not doubled. */
  private async checkOne(entry: Checked): Promise<void> {
    if (entry.running) return;
    entry.running = true;
    try {
      const { target, spec } = entry;
      const result = await probe(target, spec);
      const state = target.state;
      if (state.recordCheck(result.passed, spec.rise, spec.fall, result.reason)) {
        const fields = { model: state.model, target: state.name, up: state.activeUp, reason: result.reason, status: result.status ?? undefined, error: result.error ?? undefined, latencyMs: result.latencyMs, method: spec.method, path: spec.path, expected: spec.expected };
        this.logger.warn(fields, state.activeUp ? "target back up (active check)" : "target down (active check)");
      } else if (!result.passed) {
        this.logger.debug({ model: state.model, target: state.name, reason: result.reason, status: result.status ?? undefined, error: result.error ?? undefined, latencyMs: result.latencyMs }, "active check failed");
      }
    } finally {
      entry.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.checked) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
    }
  }
}
