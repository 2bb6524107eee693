/**
 * ingress-nginx settings for an LLM gateway: long read timeouts (a non-streamed completion sends
 * nothing until it is done), no response buffering (tokens reach the client as they come), a
 * body size for large prompts, TLS; and the controller-wide keepalive and worker tuning from the
 * source article, which lives in the controller's ConfigMap rather than in annotations.
 */
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../../gateway/src/config/schema";

const NGINX = "nginx.ingress.kubernetes.io";

export const INGRESS_DEFAULTS = {
  proxyBodySize: "50m",
  connectTimeoutSeconds: 10,
  readTimeoutSeconds: 120,
  sendTimeoutSeconds: 120,
};

export interface IngressAnnotationOptions {
  /** TLS is configured: redirect plain HTTP to HTTPS. */
  tls: boolean;
  proxyBodySize?: pulumi.Input<string>;
  connectTimeoutSeconds?: pulumi.Input<number>;
  readTimeoutSeconds?: pulumi.Input<number>;
  sendTimeoutSeconds?: pulumi.Input<number>;
  /** cert-manager: issue the TLS certificate from this ClusterIssuer... */
  clusterIssuer?: pulumi.Input<string>;
  /** ...or from this namespaced Issuer. */
  issuer?: pulumi.Input<string>;
  extra?: Record<string, pulumi.Input<string>>;
}

const seconds = (value: pulumi.Input<number>) => pulumi.output(value).apply(String);

export function buildIngressAnnotations(o: IngressAnnotationOptions): Record<string, pulumi.Input<string>> {
  if (o.clusterIssuer !== undefined && o.issuer !== undefined) {
    throw new Error("ingress TLS: set clusterIssuer or issuer, not both");
  }
  return {
    ...o.extra,
    [`${NGINX}/ssl-redirect`]: o.tls ? "true" : "false",
    [`${NGINX}/proxy-body-size`]: o.proxyBodySize ?? INGRESS_DEFAULTS.proxyBodySize,
    [`${NGINX}/proxy-connect-timeout`]: seconds(o.connectTimeoutSeconds ?? INGRESS_DEFAULTS.connectTimeoutSeconds),
    [`${NGINX}/proxy-read-timeout`]: seconds(o.readTimeoutSeconds ?? INGRESS_DEFAULTS.readTimeoutSeconds),
    [`${NGINX}/proxy-send-timeout`]: seconds(o.sendTimeoutSeconds ?? INGRESS_DEFAULTS.sendTimeoutSeconds),
    // Server-sent events must not wait in nginx's buffers.
    [`${NGINX}/proxy-buffering`]: "off",
    [`${NGINX}/proxy-request-buffering`]: "off",
    ...(o.clusterIssuer !== undefined ? { "cert-manager.io/cluster-issuer": o.clusterIssuer } : {}),
    ...(o.issuer !== undefined ? { "cert-manager.io/issuer": o.issuer } : {}),
  };
}

/**
 * nginx's read timeout must outlast the gateway's own limits, or nginx answers 504 while the
 * gateway is still retrying: the deadline before the first byte (non-streamed answers) and the
 * idle time allowed between stream chunks, plus a margin; never below the article's 120s.
 */
export function proxyReadTimeoutFor(config: Pick<GatewayConfig, "upstreamDefaults">): number {
  const { deadlineMs, timeoutMs } = config.upstreamDefaults;
  return Math.max(INGRESS_DEFAULTS.readTimeoutSeconds, Math.ceil(Math.max(deadlineMs, timeoutMs) / 1000) + 10);
}

export interface ControllerTuningOptions {
  /** Idle connections each nginx worker keeps open to upstreams (the article's keepalive 256). */
  upstreamKeepaliveConnections?: pulumi.Input<number>;
  /** Seconds an idle upstream connection stays open; keep it below the gateway's keepAliveTimeoutMs. */
  upstreamKeepaliveTimeoutSeconds?: pulumi.Input<number>;
  upstreamKeepaliveRequests?: pulumi.Input<number>;
  /** Client-side keepalive timeout, seconds. */
  keepAliveSeconds?: pulumi.Input<number>;
  maxWorkerConnections?: pulumi.Input<number>;
}

export const CONTROLLER_TUNING_DEFAULTS = {
  upstreamKeepaliveConnections: 256,
  upstreamKeepaliveTimeoutSeconds: 60,
  upstreamKeepaliveRequests: 1000,
  keepAliveSeconds: 60,
  maxWorkerConnections: 10240,
};

/** Keys of the ingress-nginx controller ConfigMap. */
export function buildControllerTuningData(o: ControllerTuningOptions = {}): Record<string, pulumi.Input<string>> {
  const d = CONTROLLER_TUNING_DEFAULTS;
  return {
    "upstream-keepalive-connections": seconds(o.upstreamKeepaliveConnections ?? d.upstreamKeepaliveConnections),
    "upstream-keepalive-timeout": seconds(o.upstreamKeepaliveTimeoutSeconds ?? d.upstreamKeepaliveTimeoutSeconds),
    "upstream-keepalive-requests": seconds(o.upstreamKeepaliveRequests ?? d.upstreamKeepaliveRequests),
    "keep-alive": seconds(o.keepAliveSeconds ?? d.keepAliveSeconds),
    "max-worker-connections": seconds(o.maxWorkerConnections ?? d.maxWorkerConnections),
  };
}
