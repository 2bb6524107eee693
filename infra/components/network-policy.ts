/**
 * Who may open connections to the gateway and to its Redis. The gateway's public port accepts the
 * ingress controller's (or Gateway's) pods and the namespaces listed as in-cluster clients; its
 * admin port (/metrics, /admin) accepts only Prometheus and the namespaces listed as admin
 * clients. Redis accepts only the gateway pods. Egress is left open: the gateway calls upstreams anywhere.
 * Namespaces are matched by `kubernetes.io/metadata.name`, which Kubernetes sets on every one.
 * Kubelet probes come from the node and are not subject to these policies on common CNIs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentLabels } from "../builders/labels";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface PeerPodsArgs {
  namespace: pulumi.Input<string>;
  /** Labels of the allowed pods in that namespace; all of its pods when unset. */
  podLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface GatewayNetworkPolicyArgs {
  namespace: pulumi.Input<string>;
  gatewaySelector: pulumi.Input<Record<string, pulumi.Input<string>>>;
  gatewayPort: pulumi.Input<number>;
  /**
   * The gateway's admin listener (`server.adminPort`). Set, Prometheus may reach only this port and
   * the ingress controller and clients only `gatewayPort`; unset (one listener), all share it.
   */
  gatewayAdminPort?: pulumi.Input<number>;
  /** Default: the pods of the ingress-nginx Helm chart, in namespace ingress-nginx. */
  ingressController?: PeerPodsArgs;
  /** Default: pods labelled app.kubernetes.io/name=prometheus in namespace monitoring. */
  prometheus?: PeerPodsArgs;
  /** Namespaces whose pods may call the gateway's Service directly. */
  clientNamespaces?: pulumi.Input<string>[];
  /** Namespaces whose pods may call the admin port (/admin: a key-rotation job, an operator console). */
  adminClientNamespaces?: pulumi.Input<string>[];
  /** The in-cluster Redis to fence: only gateway pods may reach it. */
  redis?: { selector: pulumi.Input<Record<string, pulumi.Input<string>>>; port: pulumi.Input<number> };
  /** The in-cluster cache Redis, fenced the same way. */
  cacheRedis?: { selector: pulumi.Input<Record<string, pulumi.Input<string>>>; port: pulumi.Input<number> };
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

export const NETWORK_POLICY_DEFAULTS = {
  ingressController: { namespace: "ingress-nginx", podLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
  prometheus: { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } },
};

function peer(p: PeerPodsArgs): Peer {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } },
    ...(p.podLabels !== undefined ? { podSelector: { matchLabels: p.podLabels } } : {}),
  };
}

export class GatewayNetworkPolicy extends pulumi.ComponentResource {
  public readonly gatewayPolicy: k8s.networking.v1.NetworkPolicy;
  public readonly redisPolicy: k8s.networking.v1.NetworkPolicy | undefined;
  public readonly cacheRedisPolicy: k8s.networking.v1.NetworkPolicy | undefined;

  constructor(name: string, args: GatewayNetworkPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:GatewayNetworkPolicy", name, {}, opts);
    const labels = componentLabels(args.instance ?? name, "gateway");
    const publicSources: Peer[] = [
      peer(args.ingressController ?? NETWORK_POLICY_DEFAULTS.ingressController),
      ...(args.clientNamespaces ?? []).map((namespace) => peer({ namespace })),
    ];
    const adminSources: Peer[] = [
      peer(args.prometheus ?? NETWORK_POLICY_DEFAULTS.prometheus),
      ...(args.adminClientNamespaces ?? []).map((namespace) => peer({ namespace })),
    ];
    const tcp = (port: pulumi.Input<number>) => [{ protocol: "TCP", port }];
    const rules =
      args.gatewayAdminPort === undefined
        ? [{ from: [...publicSources, ...adminSources], ports: tcp(args.gatewayPort) }]
        : [
            { from: publicSources, ports: tcp(args.gatewayPort) },
            { from: adminSources, ports: tcp(args.gatewayAdminPort) },
          ];

    this.gatewayPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-gateway`,
      {
        metadata: { name: `${name}-gateway`, namespace: args.namespace, labels },
        spec: {
          podSelector: { matchLabels: args.gatewaySelector },
          policyTypes: ["Ingress"],
          ingress: rules,
        },
      },
      { parent: this },
    );

    const fence = (suffix: string, redis: NonNullable<GatewayNetworkPolicyArgs["redis"]>) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${suffix}`,
        {
          metadata: { name: `${name}-${suffix}`, namespace: args.namespace, labels },
          spec: {
            podSelector: { matchLabels: redis.selector },
            policyTypes: ["Ingress"],
            // A podSelector alone means: pods of this namespace with these labels.
            ingress: [{ from: [{ podSelector: { matchLabels: args.gatewaySelector } }], ports: [{ protocol: "TCP", port: redis.port }] }],
          },
        },
        { parent: this },
      );
    this.redisPolicy = args.redis ? fence("redis", args.redis) : undefined;
    this.cacheRedisPolicy = args.cacheRedis ? fence("cache-redis", args.cacheRedis) : undefined;

    this.registerOutputs({ gatewayPolicyName: this.gatewayPolicy.metadata.name });
  }
}
