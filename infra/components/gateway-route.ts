/**
 * An HTTPRoute (Gateway API, gateway.networking.k8s.io/v1) that publishes the gateway's `/v1`
 * API through a Gateway the platform already runs. The successor to IngressTuning now that
 * ingress-nginx is retired; both can exist during a migration.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildHttpRouteSpec, type ParentRef } from "../builders/http-route";
import { componentLabels } from "../builders/labels";

export interface GatewayRouteArgs {
  namespace: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  servicePort: pulumi.Input<number>;
  /** The Gateway(s) to attach to. */
  parentRefs: ParentRef[];
  /** Host names the route answers; unset, every host of the Gateway's listener. */
  hostnames?: pulumi.Input<string>[];
  /** Request and backend timeouts, seconds (AiGateway derives them from the gateway config). */
  timeoutSeconds: pulumi.Input<number>;
  /** Scheme of the listener, for the `url` output (default https). */
  scheme?: "http" | "https";
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

export function checkGatewayRouteArgs(args: Pick<GatewayRouteArgs, "parentRefs">): void {
  if (args.parentRefs.length === 0) throw new Error("GatewayRoute: parentRefs needs at least one Gateway");
}

export class GatewayRoute extends pulumi.ComponentResource {
  public readonly route: k8s.apiextensions.CustomResource;
  /** The first host name, when any. */
  public readonly host: pulumi.Output<string | undefined>;
  public readonly url: pulumi.Output<string | undefined>;

  constructor(name: string, args: GatewayRouteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:GatewayRoute", name, {}, opts);
    checkGatewayRouteArgs(args);
    const labels = componentLabels(args.instance ?? name, "gateway");
    this.route = new k8s.apiextensions.CustomResource(
      `${name}-httproute`,
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name, namespace: args.namespace, labels },
        spec: buildHttpRouteSpec(args),
      },
      { parent: this },
    );
    this.host = pulumi.output(args.hostnames ?? []).apply((hosts) => hosts[0]);
    this.url = this.host.apply((h) => (h === undefined ? undefined : `${args.scheme ?? "https"}://${h}`));
    this.registerOutputs({ host: this.host, url: this.url });
  }
}
