/**
 * The gateway's public way in through the Kubernetes Gateway API: an HTTPRoute attached to a
 * Gateway the platform runs (Envoy Gateway, Istio, Cilium, NGINX Gateway Fabric, a cloud's own),
 * sending only the OpenAI-compatible API (`/v1`) to the gateway's Service. Health, readiness,
 * metrics and admin paths stay private. Timeouts must outlast the longest answer the gateway
 * allows, or the Gateway cuts streams the gateway would still serve.
 */
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../../gateway/src/config/schema";

/** The only path prefix routed from outside. */
export const PUBLIC_PATH_PREFIX = "/v1";

export interface ParentRef {
  /** The Gateway's name. */
  name: pulumi.Input<string>;
  /** The Gateway's namespace (default: the route's). Its listener must allow routes from this namespace. */
  namespace?: pulumi.Input<string>;
  /** One listener of the Gateway (e.g. `https`). */
  sectionName?: pulumi.Input<string>;
}

/**
 * Seconds the Gateway must allow for one whole request: the failover deadline before the first
 * byte plus the longest stream, plus a margin. (An HTTPRoute's `request` timeout covers the
 * whole response, streams included, unlike nginx's idle read timeout.)
 */
export function routeTimeoutSecondsFor(config: Pick<GatewayConfig, "upstreamDefaults">): number {
  const { deadlineMs, maxStreamMs } = config.upstreamDefaults;
  return Math.ceil((deadlineMs + maxStreamMs) / 1000) + 10;
}

export interface HttpRouteSpecOptions {
  parentRefs: ParentRef[];
  hostnames?: pulumi.Input<string>[];
  serviceName: pulumi.Input<string>;
  servicePort: pulumi.Input<number>;
  timeoutSeconds: pulumi.Input<number>;
}

const duration = (seconds: pulumi.Input<number>) => pulumi.output(seconds).apply((s) => `${s}s`);

export function buildHttpRouteSpec(o: HttpRouteSpecOptions): Record<string, unknown> {
  return {
    parentRefs: o.parentRefs.map((p) => ({
      group: "gateway.networking.k8s.io",
      kind: "Gateway",
      name: p.name,
      ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
      ...(p.sectionName !== undefined ? { sectionName: p.sectionName } : {}),
    })),
    ...(o.hostnames !== undefined ? { hostnames: o.hostnames } : {}),
    rules: [
      {
        matches: [{ path: { type: "PathPrefix", value: PUBLIC_PATH_PREFIX } }],
        backendRefs: [{ group: "", kind: "Service", name: o.serviceName, port: o.servicePort, weight: 1 }],
        // request: the whole exchange with the client; backendRequest: one try to the gateway.
        timeouts: { request: duration(o.timeoutSeconds), backendRequest: duration(o.timeoutSeconds) },
      },
    ],
  };
}
