/**
 * Active health checks: `GET {baseUrl}{path}` with the target's key on an interval; rise/fall
 * thresholds decide when a target goes down or comes back, as HAProxy's `check rise N fall N`.
 * Mock targets are not checked: they are always up.
 */
import type { Dispatcher } from "undici";
import type { GatewayConfig } from "../config/schema";
import type { Logger } from "../log";
import type { PreparedTarget } from "./prepared-target";

/** Resolves true for a 2xx within the timeout, false for anything else. */
export function probe(target: PreparedTarget, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      // Without onRequestStart undici takes this for a legacy handler and throws on dispatch.
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData() {},
      onResponseEnd() {
        resolve(status >= target.provider.healthProbe.okMin && status <= target.provider.healthProbe.okMax);
      },
      onResponseError() {
        resolve(false);
      },
    };
    try {
      target.endpoint.dispatcher.dispatch({ method: "GET", path: target.endpoint.pathPrefix + path, headers: target.probeHeaders, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }, handler);
    } catch {
      resolve(false);
    }
  });
}

/**
 * The path probed: `healthCheck.path` for OpenAI-compatible targets (its default is their
 * `/models`), the provider's own default probe for the others (Anthropic's `GET /v1/models`).
 */
export function probePathOf(target: PreparedTarget, configuredPath: string): string {
  return target.provider.dialect === "openai" ? configuredPath : target.provider.healthProbe.path;
}

export class HealthChecker {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly targets: readonly PreparedTarget[],
    private readonly config: GatewayConfig["healthCheck"],
    private readonly logger: Logger,
  ) {}

  start(): void {
    const checked = this.targets.filter((t) => !t.state.config.baseUrl.startsWith("mock://"));
    if (!this.config.enabled || checked.length === 0) return;
    this.timer = setInterval(() => void this.checkAll(checked), this.config.intervalMs);
    this.timer.unref();
  }

  /** One round over every target; rounds never overlap. */
  async checkAll(targets: readonly PreparedTarget[]): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(
        targets.map(async (target) => {
          const passed = await probe(target, probePathOf(target, this.config.path), this.config.timeoutMs);
          if (target.state.recordCheck(passed, this.config.rise, this.config.fall)) {
            this.logger.warn({ model: target.state.model, target: target.state.name, up: target.state.activeUp }, target.state.activeUp ? "target back up (active check)" : "target down (active check)");
          }
        }),
      );
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
