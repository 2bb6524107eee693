/**
 * The gateway's Grafana dashboard as a ConfigMap that Grafana's dashboard sidecar loads (the
 * kube-prometheus-stack and Grafana Helm charts watch ConfigMaps labelled `grafana_dashboard: "1"`
 * by default). Opt-in: nothing here talks to Grafana itself.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildGatewayDashboard } from "../builders/grafana-dashboard";
import { componentLabels } from "../builders/labels";

export interface GatewayDashboardArgs {
  /** Where the ConfigMap goes: the gateway's namespace, or the one the sidecar watches. */
  namespace: pulumi.Input<string>;
  /** The label the sidecar selects on; default `{ grafana_dashboard: "1" }`. */
  sidecarLabels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Grafana folder, through the sidecar's `grafana_folder` annotation. */
  folder?: pulumi.Input<string>;
  /** Dashboard uid (default `ai-gateway`); set one per installation when several share a Grafana. */
  uid?: pulumi.Input<string>;
  title?: pulumi.Input<string>;
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

export const DASHBOARD_SIDECAR_LABELS = { grafana_dashboard: "1" };
export const DASHBOARD_FILE = "ai-gateway.json";

export class GatewayDashboard extends pulumi.ComponentResource {
  public readonly configMap: k8s.core.v1.ConfigMap;

  constructor(name: string, args: GatewayDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:monitoring:GatewayDashboard", name, {}, opts);
    const labels = componentLabels(args.instance ?? name, "gateway");
    const json = pulumi
      .all([args.uid, args.title])
      .apply(([uid, title]) => JSON.stringify(buildGatewayDashboard({ uid, title }), null, 2));

    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-dashboard`,
      {
        metadata: {
          namespace: args.namespace,
          labels: pulumi.all([args.sidecarLabels ?? DASHBOARD_SIDECAR_LABELS]).apply(([sidecar]) => ({ ...labels, ...sidecar })),
          annotations: pulumi.all([args.folder]).apply(([folder]): Record<string, string> => (folder === undefined ? {} : { grafana_folder: folder })),
        },
        data: { [DASHBOARD_FILE]: json },
      },
      { parent: this },
    );
    this.registerOutputs({ configMapName: this.configMap.metadata.name });
  }
}
