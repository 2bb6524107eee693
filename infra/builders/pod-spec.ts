/**
 * The gateway's pod template: one container running as a non-root user on a read-only root
 * filesystem, config mounted from the ConfigMap, secrets as env vars from the Secret, probes on
 * the gateway's health endpoints and a preStop sleep ahead of SIGTERM (see shutdown.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";

type PodSpec = k8s.types.input.core.v1.PodSpec;
type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;

export const CONTAINER_NAME = "gateway";
export const CONFIG_DIR = "/etc/ai-gateway";
export const CONFIG_FILE = "config.yaml";
export const CONFIG_PATH = `${CONFIG_DIR}/${CONFIG_FILE}`;
/** The image's non-root user (node:24's `node`); numeric so that runAsNonRoot can verify it. */
export const GATEWAY_UID = 1000;
/** The public port: the API, and the probes. Ingress and HTTPRoute send traffic here only. */
export const PORT_NAME = "http";
/** The admin listener's port (`server.adminPort`): /metrics and /admin. No route ever points at it. */
export const ADMIN_PORT_NAME = "admin";
/** `server.adminPort` in the pod when the gateway config sets none. */
export const DEFAULT_ADMIN_PORT = 8081;

export const DEFAULT_GATEWAY_RESOURCES = {
  requests: { cpu: "500m", memory: "512Mi" },
  limits: { cpu: "1000m", memory: "1Gi" },
};

export interface GatewayPodOptions {
  image: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** The gateway's `server.adminPort` (default 8081): /metrics and /admin are served there only. */
  adminPort?: pulumi.Input<number>;
  configMapName: pulumi.Input<string>;
  secretName: pulumi.Input<string>;
  serviceAccountName: pulumi.Input<string>;
  /** Labels the pods carry (selector labels included). */
  labels: Record<string, string>;
  /** Labels the topology spread counts pods by: the Deployment's selector. */
  selector: Record<string, string>;
  /** sha256 of the config fields only a restart applies: changing it changes the template, which rolls the pods. */
  configChecksum: pulumi.Input<string>;
  preStopSeconds: pulumi.Input<number>;
  /**
   * Add `prometheus.io/*` annotations for a Prometheus that discovers pods by annotation. Off by
   * default: with the ServiceMonitor as well, every series would be scraped twice.
   */
  scrapeAnnotations?: boolean;
  terminationGracePeriodSeconds: pulumi.Input<number>;
  resources?: pulumi.Input<ResourceRequirements>;
  /** Plain (non-secret) env vars, e.g. NODE_OPTIONS. */
  env?: Record<string, pulumi.Input<string>>;
  /** `ScheduleAnyway` (default) or `DoNotSchedule` for the spread across nodes. */
  spreadWhenUnsatisfiable?: pulumi.Input<string>;
  /** The knobs every chart has; each is left out of the manifest when unset. */
  scheduling?: PodSchedulingOptions;
}

/** Placement, pull secrets, extra env sources and volumes (a CA bundle), pod metadata. */
export interface PodSchedulingOptions {
  imagePullSecrets?: pulumi.Input<string>[];
  nodeSelector?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  tolerations?: pulumi.Input<pulumi.Input<k8s.types.input.core.v1.Toleration>[]>;
  affinity?: pulumi.Input<k8s.types.input.core.v1.Affinity>;
  priorityClassName?: pulumi.Input<string>;
  podAnnotations?: Record<string, pulumi.Input<string>>;
  /** Added to the pods' labels; the selector labels always win. */
  podLabels?: Record<string, string>;
  /** More env sources after the gateway's own Secret (later sources win): an existing Secret, a ConfigMap. */
  envFrom?: pulumi.Input<k8s.types.input.core.v1.EnvFromSource>[];
  extraVolumes?: pulumi.Input<k8s.types.input.core.v1.Volume>[];
  extraVolumeMounts?: pulumi.Input<k8s.types.input.core.v1.VolumeMount>[];
}

/** Annotations that make a Prometheus using pod annotations (not the ServiceMonitor) scrape it: the admin port. */
export function scrapeAnnotations(port: pulumi.Input<number>): Record<string, pulumi.Input<string>> {
  return {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": pulumi.output(port).apply(String),
    "prometheus.io/path": "/metrics",
  };
}

export function buildGatewayPodSpec(o: GatewayPodOptions): PodSpec {
  const spread = (topologyKey: string, whenUnsatisfiable: pulumi.Input<string>) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable,
    labelSelector: { matchLabels: o.selector },
  });
  return {
    serviceAccountName: o.serviceAccountName,
    // The gateway never calls the Kubernetes API.
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: o.terminationGracePeriodSeconds,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: GATEWAY_UID,
      runAsGroup: GATEWAY_UID,
      fsGroup: GATEWAY_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    topologySpreadConstraints: [
      spread("kubernetes.io/hostname", o.spreadWhenUnsatisfiable ?? "ScheduleAnyway"),
      // Zones are best effort: single-zone clusters have no such label spread to make.
      spread("topology.kubernetes.io/zone", "ScheduleAnyway"),
    ],
    containers: [
      {
        name: CONTAINER_NAME,
        image: o.image,
        imagePullPolicy: "IfNotPresent",
        ports: [
          { name: PORT_NAME, containerPort: o.port, protocol: "TCP" },
          { name: ADMIN_PORT_NAME, containerPort: o.adminPort ?? DEFAULT_ADMIN_PORT, protocol: "TCP" },
        ],
        env: [
          { name: "GATEWAY_CONFIG", value: CONFIG_PATH },
          { name: "NODE_ENV", value: "production" },
          ...Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
        ],
        envFrom: [{ secretRef: { name: o.secretName } }, ...(o.scheduling?.envFrom ?? [])],
        resources: o.resources ?? DEFAULT_GATEWAY_RESOURCES,
        livenessProbe: {
          httpGet: { path: "/healthz", port: PORT_NAME },
          periodSeconds: 10,
          timeoutSeconds: 3,
          failureThreshold: 3,
        },
        readinessProbe: {
          httpGet: { path: "/readyz", port: PORT_NAME },
          periodSeconds: 5,
          timeoutSeconds: 3,
          failureThreshold: 2,
        },
        // Give a slow start (first health checks of every target) time before liveness counts.
        startupProbe: {
          httpGet: { path: "/healthz", port: PORT_NAME },
          periodSeconds: 2,
          failureThreshold: 30,
        },
        lifecycle: {
          // Endpoint removal and ingress reloads lag the pod's deletion: keep serving meanwhile.
          preStop: { exec: { command: ["/bin/sleep", pulumi.output(o.preStopSeconds).apply(String)] } },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [
          { name: "config", mountPath: CONFIG_DIR, readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
          ...(o.scheduling?.extraVolumeMounts ?? []),
        ],
      },
    ],
    volumes: [
      { name: "config", configMap: { name: o.configMapName, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] } },
      // The only writable place on a read-only root filesystem.
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      ...(o.scheduling?.extraVolumes ?? []),
    ],
    ...placement(o.scheduling),
  };
}

/** Only the fields that are set, so an unset knob leaves no empty field in the manifest. */
function placement(s: PodSchedulingOptions | undefined): Partial<PodSpec> {
  if (s === undefined) return {};
  return {
    ...(s.imagePullSecrets !== undefined ? { imagePullSecrets: s.imagePullSecrets.map((name) => ({ name })) } : {}),
    ...(s.nodeSelector !== undefined ? { nodeSelector: s.nodeSelector } : {}),
    ...(s.tolerations !== undefined ? { tolerations: s.tolerations } : {}),
    ...(s.affinity !== undefined ? { affinity: s.affinity } : {}),
    ...(s.priorityClassName !== undefined ? { priorityClassName: s.priorityClassName } : {}),
  };
}

export function buildGatewayPodTemplate(o: GatewayPodOptions): PodTemplateSpec {
  return {
    metadata: {
      labels: { ...o.scheduling?.podLabels, ...o.labels },
      annotations: { ...o.scheduling?.podAnnotations, ...(o.scrapeAnnotations ? scrapeAnnotations(o.adminPort ?? DEFAULT_ADMIN_PORT) : {}), "checksum/config": o.configChecksum },
    },
    spec: buildGatewayPodSpec(o),
  };
}
