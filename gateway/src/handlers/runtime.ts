/** Everything a handler needs, built once at start (see ../gateway.ts). */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatewayConfig } from "../config/schema";
import type { BufferBudget } from "../http/buffer-budget";
import type { OverloadGuard } from "../http/overload-guard";
import type { AccessLog, Logger } from "../log";
import type { GatewayMetrics } from "../metrics/registry";
import type { Router } from "../routing/router";
import type { KeyLabels } from "../metrics/key-labels";
import type { Tracer } from "../tracing/tracer";
import type { SpendParts, TrafficControl } from "../traffic/types";
import type { Forwarder } from "../upstream/forward";
import type { ConsoleRecorder, ConsoleServer } from "../admin/console";
import type { ResponseStore } from "../responses/store";

export interface GatewayRuntime {
  readonly config: GatewayConfig;
  readonly router: Router;
  readonly forwarder: Forwarder;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** One line per proxied request; null when `logging.accessLog` is off. */
  readonly accessLog: AccessLog | null;
  readonly traffic: TrafficControl;
  /** The process's budget for buffered bodies (request bodies read here, answers in the forwarder). */
  readonly buffers: BufferBudget;
  /** Sheds new proxied requests past the concurrency ceiling or event-loop lag (server.overload). */
  readonly overload: OverloadGuard;
  /** Responses kept for previous_response_id, GET, DELETE and input_items (responses/store.ts). */
  readonly responses: ResponseStore;
  /** Handles `/admin/…` when the admin API is configured. */
  readonly admin: ((req: IncomingMessage, res: ServerResponse, clientIp: string) => Promise<void>) | null;
  /** The client's address (X-Forwarded-For read as server.trustedProxies says). */
  readonly clientIp: (req: IncomingMessage) => string;
  /** The same on the admin listener, which no ingress fronts: only `server.trustedProxies` CIDRs are believed (http/client-ip.ts). */
  readonly adminListenerClientIp?: (req: IncomingMessage) => string;
  /** The admin console (`/ui/`), where the admin API is served; null when off. */
  readonly console: ConsoleServer | null;
  /** What the console keeps of each finished request; null when the console is off (costs nothing then). */
  readonly recorder: ConsoleRecorder | null;
  /** The bounded `key` and `team` label values of a request's identity. */
  readonly keyLabels: KeyLabels;
  /** Prices and daily rollups (null when traffic control was built by hand, in tests). */
  readonly spend: SpendParts | null;
  /** True from SIGTERM on: /readyz fails and responses close their connections. */
  draining: boolean;
  /** OpenTelemetry spans (tracing.enabled); null when off, the default. */
  readonly tracer?: Tracer | null;
}
