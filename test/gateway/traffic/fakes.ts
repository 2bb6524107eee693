/** Recording metrics and logger for traffic-control tests (the pipeline passes prom-client and pino). */
import type { CounterPort, GaugePort, LoggerPort, TrafficMetrics } from "../../../gateway/src/traffic/metrics-port";

const labelKey = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");

export class RecordingCounter implements CounterPort {
  readonly values = new Map<string, number>();
  inc(labels: Record<string, string>, value = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + value);
  }
  get(labels: Record<string, string> = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
}

export class RecordingGauge implements GaugePort {
  readonly values = new Map<string, number>();
  set(labels: Record<string, string>, value: number): void {
    this.values.set(labelKey(labels), value);
  }
  get(labels: Record<string, string> = {}): number | undefined {
    return this.values.get(labelKey(labels));
  }
}

export function recordingMetrics() {
  return {
    rejections: new RecordingCounter(),
    budgetUsedRatio: new RecordingGauge(),
    teamBudgetUsedRatio: new RecordingGauge(),
    cacheRequests: new RecordingCounter(),
    storeErrors: new RecordingCounter(),
    storeFallback: new RecordingGauge(),
  } satisfies TrafficMetrics;
}

export interface LogLine {
  level: "info" | "warn" | "error";
  obj: object;
  msg?: string;
}

export function recordingLogger(): LoggerPort & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: "info", obj, msg }),
    warn: (obj, msg) => void lines.push({ level: "warn", obj, msg }),
    error: (obj, msg) => void lines.push({ level: "error", obj, msg }),
    text: () => lines.map((l) => JSON.stringify(l)).join("\n"),
  };
}

/** Polls until `check` passes (state that changes in the background); throws after the time is up. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error("condition not met in time");
}
