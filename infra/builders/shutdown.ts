/**
 * Graceful shutdown timing. A pod being deleted first runs its preStop sleep (while endpoints and
 * the ingress stop sending it traffic), then gets SIGTERM; the gateway fails /readyz, stops
 * accepting connections and gives in-flight requests and streams `server.shutdownGraceMs`.
 * Kubernetes kills the pod at `terminationGracePeriodSeconds`, counted from the start of preStop,
 * so: terminationGracePeriodSeconds > preStop + shutdownGrace, and shutdownGrace >= maxStreamMs
 * so that the longest stream the gateway allows can finish.
 */
import { gatewayConfigSchema, type GatewayConfigInput } from "../../gateway/src/config/schema";

export interface ShutdownTiming {
  /** Sleep before SIGTERM, so that no new traffic arrives after the gateway stops listening. */
  preStopSeconds: number;
  /** What the gateway is told it may spend draining (goes into `server.shutdownGraceMs`). */
  shutdownGraceMs: number;
  /** preStop + drain + margin, rounded up to whole seconds. */
  terminationGracePeriodSeconds: number;
}

export const DEFAULT_PRESTOP_SECONDS = 10;
/** Time for the process to settle what it cut (at most 5 s, gateway/src/shutdown-settle.ts), flush logs and exit after its drain deadline. */
export const SHUTDOWN_MARGIN_SECONDS = 10;

/** The schema's own defaults, so that they are never restated here. */
function withDefaults(config: GatewayConfigInput) {
  const shape = gatewayConfigSchema.shape;
  return {
    server: shape.server.parse(config.server ?? {}),
    upstreamDefaults: shape.upstreamDefaults.parse(config.upstreamDefaults ?? {}),
  };
}

/** The drain time the gateway gets: what the config asks for, raised to cover the longest stream. */
export function deriveShutdownGraceMs(config: GatewayConfigInput): number {
  const { server, upstreamDefaults } = withDefaults(config);
  return Math.max(server.shutdownGraceMs, upstreamDefaults.maxStreamMs);
}

/** preStop + drain + margin: when Kubernetes may SIGKILL the pod. */
export function terminationGracePeriodFor(preStopSeconds: number, shutdownGraceMs: number): number {
  return preStopSeconds + Math.ceil(shutdownGraceMs / 1000) + SHUTDOWN_MARGIN_SECONDS;
}

export function shutdownTiming(config: GatewayConfigInput, preStopSeconds: number = DEFAULT_PRESTOP_SECONDS): ShutdownTiming {
  if (!Number.isInteger(preStopSeconds) || preStopSeconds < 0) {
    throw new Error(`preStopSeconds must be a whole number of seconds >= 0, got ${preStopSeconds}`);
  }
  const shutdownGraceMs = deriveShutdownGraceMs(config);
  return {
    preStopSeconds,
    shutdownGraceMs,
    terminationGracePeriodSeconds: terminationGracePeriodFor(preStopSeconds, shutdownGraceMs),
  };
}
