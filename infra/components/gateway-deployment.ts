/**
 * The gateway workload: ServiceAccount, Deployment, Service and PodDisruptionBudget. The replica
 * count is left out of the Deployment when an HPA owns it (otherwise every `pulumi up` would reset
 * the HPA's choice). Shutdown timing follows builders/shutdown.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentLabels, selectorLabels } from "../builders/labels";
import { ADMIN_PORT_NAME, buildGatewayPodTemplate, DEFAULT_ADMIN_PORT, PORT_NAME, type PodSchedulingOptions } from "../builders/pod-spec";
import { DEFAULT_PRESTOP_SECONDS, terminationGracePeriodFor } from "../builders/shutdown";

export interface GatewayDeploymentArgs {
  namespace: pulumi.Input<string>;
  /** By digest (see GatewayImage). */
  image: pulumi.Input<string>;
  configMapName: pulumi.Input<string>;
  secretName: pulumi.Input<string>;
  configChecksum: pulumi.Input<string>;
  /** The gateway's `server.port`. */
  port?: pulumi.Input<number>;
  /** The gateway's `server.adminPort` (default 8081): /metrics and /admin, behind the Service's `admin` port. */
  adminPort?: pulumi.Input<number>;
  /** A fixed count. Leave unset when a GatewayAutoscaler owns the count. */
  replicas?: pulumi.Input<number>;
  resources?: pulumi.Input<k8s.types.input.core.v1.ResourceRequirements>;
  /** The gateway's `server.shutdownGraceMs` (GatewayConfig raises it to cover maxStreamMs). */
  shutdownGraceMs?: pulumi.Input<number>;
  preStopSeconds?: pulumi.Input<number>;
  /** Pods a voluntary disruption (drain, upgrade) may take down at once. */
  maxUnavailable?: pulumi.Input<number>;
  servicePort?: pulumi.Input<number>;
  /** The Service's `admin` port (default 8081), for the ServiceMonitor and in-cluster operators; never routed. */
  adminServicePort?: pulumi.Input<number>;
  /** `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
  serviceType?: pulumi.Input<string>;
  loadBalancerClass?: pulumi.Input<string>;
  /** Annotations on the Service (cloud load balancer settings). */
  serviceAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  serviceAccountAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Plain env vars for the container (secrets go through GatewayConfig's Secret). */
  env?: Record<string, pulumi.Input<string>>;
  /** `ScheduleAnyway` (default) or `DoNotSchedule`: how strictly pods spread across nodes. */
  spreadWhenUnsatisfiable?: pulumi.Input<string>;
  /** Image pull secrets, node placement, priority, pod metadata, extra env sources and volumes. */
  scheduling?: PodSchedulingOptions;
  /** `prometheus.io/*` pod annotations, for a Prometheus without the ServiceMonitor (default off). */
  scrapeAnnotations?: boolean;
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 600_000;

export class GatewayDeployment extends pulumi.ComponentResource {
  public readonly serviceAccount: k8s.core.v1.ServiceAccount;
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  /** The Service with the `admin` port: `service` itself when that is ClusterIP, else one of its own (never published). */
  public readonly adminService: k8s.core.v1.Service;
  public readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
  public readonly deploymentName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  /** The admin Service's name: the `job` label of what the ServiceMonitor scrapes there (alerts and the HPA's metric filter on it). */
  public readonly adminServiceName: pulumi.Output<string>;
  public readonly servicePort: pulumi.Output<number>;
  public readonly adminServicePort: pulumi.Output<number>;
  /** `http://<service>.<namespace>.svc.cluster.local:<port>`, for callers inside the cluster. */
  public readonly serviceUrl: pulumi.Output<string>;
  /** `http://<service>.<namespace>.svc.cluster.local:<admin port>`: /metrics and /admin, in the cluster only. */
  public readonly adminServiceUrl: pulumi.Output<string>;
  public readonly selector: Record<string, string>;
  public readonly terminationGracePeriodSeconds: pulumi.Output<number>;

  constructor(name: string, args: GatewayDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:GatewayDeployment", name, {}, opts);
    const instance = args.instance ?? name;
    const labels = componentLabels(instance, "gateway");
    this.selector = selectorLabels(instance, "gateway");
    const port = args.port ?? 8080;
    const preStopSeconds = args.preStopSeconds ?? DEFAULT_PRESTOP_SECONDS;
    this.terminationGracePeriodSeconds = pulumi
      .all([preStopSeconds, args.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS])
      .apply(([preStop, graceMs]) => terminationGracePeriodFor(preStop, graceMs));
    const metadata = { name, namespace: args.namespace, labels };

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { ...metadata, annotations: args.serviceAccountAnnotations }, automountServiceAccountToken: false },
      { parent: this },
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata,
        spec: {
          // Undefined is dropped from the manifest: with an HPA the field must be absent.
          replicas: args.replicas,
          selector: { matchLabels: this.selector },
          revisionHistoryLimit: 5,
          // Never below the current count during a rollout: new pods come up before old ones drain.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
          template: buildGatewayPodTemplate({
            image: args.image,
            port,
            adminPort: args.adminPort,
            configMapName: args.configMapName,
            secretName: args.secretName,
            serviceAccountName: this.serviceAccount.metadata.name,
            labels,
            selector: this.selector,
            configChecksum: args.configChecksum,
            preStopSeconds,
            scrapeAnnotations: args.scrapeAnnotations ?? false,
            scheduling: args.scheduling,
            terminationGracePeriodSeconds: this.terminationGracePeriodSeconds,
            resources: args.resources,
            env: args.env,
            spreadWhenUnsatisfiable: args.spreadWhenUnsatisfiable,
          }),
        },
      },
      // Streams may take many minutes to drain; do not fail `pulumi up` while they do.
      { parent: this, customTimeouts: { create: "15m", update: "30m" } },
    );

    const adminPort = { name: ADMIN_PORT_NAME, port: args.adminServicePort ?? DEFAULT_ADMIN_PORT, targetPort: ADMIN_PORT_NAME, protocol: "TCP" };
    // A NodePort or LoadBalancer Service publishes every port it has outside the cluster: the
    // admin port (/admin, the console, /metrics) then gets a ClusterIP Service of its own. An
    // Output type counts as published (it may be).
    const published = args.serviceType !== undefined && args.serviceType !== "ClusterIP";
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: args.serviceAnnotations !== undefined ? { ...metadata, annotations: args.serviceAnnotations } : metadata,
        spec: {
          type: args.serviceType ?? "ClusterIP",
          ...(args.loadBalancerClass !== undefined ? { loadBalancerClass: args.loadBalancerClass } : {}),
          selector: this.selector,
          ports: [{ name: PORT_NAME, port: args.servicePort ?? 80, targetPort: PORT_NAME, protocol: "TCP" }, ...(published ? [] : [adminPort])],
        },
      },
      { parent: this },
    );
    this.adminService = published
      ? new k8s.core.v1.Service(
          `${name}-admin-service`,
          { metadata: { ...metadata, name: `${name}-admin` }, spec: { type: "ClusterIP", selector: this.selector, ports: [adminPort] } },
          { parent: this },
        )
      : this.service;

    this.podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata, spec: { maxUnavailable: args.maxUnavailable ?? 1, selector: { matchLabels: this.selector } } },
      { parent: this },
    );

    this.deploymentName = this.deployment.metadata.name;
    this.serviceName = this.service.metadata.name;
    this.adminServiceName = this.adminService.metadata.name;
    this.servicePort = pulumi.output(args.servicePort ?? 80);
    this.adminServicePort = pulumi.output(args.adminServicePort ?? DEFAULT_ADMIN_PORT);
    this.serviceUrl = pulumi.interpolate`http://${this.service.metadata.name}.${this.service.metadata.namespace}.svc.cluster.local:${this.servicePort}`;
    this.adminServiceUrl = pulumi.interpolate`http://${this.adminService.metadata.name}.${this.adminService.metadata.namespace}.svc.cluster.local:${this.adminServicePort}`;
    this.registerOutputs({
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      serviceUrl: this.serviceUrl,
      adminServiceUrl: this.adminServiceUrl,
      terminationGracePeriodSeconds: this.terminationGracePeriodSeconds,
    });
  }
}
