/**
 * The gateway's public entry through ingress-nginx: an Ingress with TLS (an existing certificate
 * Secret, or one cert-manager issues), SSL redirect, body size, timeouts long enough for slow
 * generations and no response buffering for streams (builders/ingress.ts). Optionally it also
 * patches the controller's own ConfigMap with the source article's keepalive and worker tuning;
 * that ConfigMap belongs to the controller's install, so only the named keys are managed here.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildControllerTuningData, buildIngressAnnotations, type ControllerTuningOptions } from "../builders/ingress";
import { PUBLIC_PATH_PREFIX } from "../builders/http-route";
import { componentLabels } from "../builders/labels";

export interface IngressTlsArgs {
  /** The certificate Secret: existing, or the one cert-manager writes (default `<name>-tls`). */
  secretName?: pulumi.Input<string>;
  clusterIssuer?: pulumi.Input<string>;
  issuer?: pulumi.Input<string>;
}

export interface ControllerTuningArgs extends ControllerTuningOptions {
  /** Where the ingress-nginx controller's ConfigMap is (Helm default: ingress-nginx/ingress-nginx-controller). */
  namespace: pulumi.Input<string>;
  configMapName: pulumi.Input<string>;
}

export interface IngressTuningArgs {
  namespace: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  servicePort: pulumi.Input<number>;
  host: pulumi.Input<string>;
  ingressClassName?: pulumi.Input<string>;
  /** Without it the Ingress serves plain HTTP (local clusters). */
  tls?: IngressTlsArgs;
  proxyBodySize?: pulumi.Input<string>;
  connectTimeoutSeconds?: pulumi.Input<number>;
  readTimeoutSeconds?: pulumi.Input<number>;
  sendTimeoutSeconds?: pulumi.Input<number>;
  annotations?: Record<string, pulumi.Input<string>>;
  controllerTuning?: ControllerTuningArgs;
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

/** The argument checks, callable before anything is created (AiGateway runs them all first). */
export function checkIngressTuningArgs(args: Pick<IngressTuningArgs, "tls">): void {
  const tls = args.tls;
  if (tls?.clusterIssuer !== undefined && tls.issuer !== undefined) {
    throw new Error("IngressTuning: set tls.clusterIssuer or tls.issuer, not both");
  }
  if (tls && tls.secretName === undefined && tls.clusterIssuer === undefined && tls.issuer === undefined) {
    throw new Error("IngressTuning: tls needs a secretName (an existing certificate) or a cert-manager issuer");
  }
}

export class IngressTuning extends pulumi.ComponentResource {
  public readonly ingress: k8s.networking.v1.Ingress;
  public readonly controllerConfig: k8s.core.v1.ConfigMapPatch | undefined;
  public readonly host: pulumi.Output<string>;
  /** `https://host` or `http://host`. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: IngressTuningArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:IngressTuning", name, {}, opts);
    checkIngressTuningArgs(args);
    const tls = args.tls;
    const annotations = buildIngressAnnotations({
      tls: tls !== undefined,
      proxyBodySize: args.proxyBodySize,
      connectTimeoutSeconds: args.connectTimeoutSeconds,
      readTimeoutSeconds: args.readTimeoutSeconds,
      sendTimeoutSeconds: args.sendTimeoutSeconds,
      clusterIssuer: tls?.clusterIssuer,
      issuer: tls?.issuer,
      extra: args.annotations,
    });
    const labels = componentLabels(args.instance ?? name, "gateway");

    this.ingress = new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: { name, namespace: args.namespace, labels, annotations },
        spec: {
          ingressClassName: args.ingressClassName ?? "nginx",
          tls: tls ? [{ hosts: [args.host], secretName: tls.secretName ?? `${name}-tls` }] : undefined,
          rules: [
            {
              host: args.host,
              http: {
                paths: [
                  {
                    // Only the API is public: /healthz, /readyz, /metrics and /admin stay in the cluster.
                    path: PUBLIC_PATH_PREFIX,
                    pathType: "Prefix",
                    backend: { service: { name: args.serviceName, port: { number: args.servicePort } } },
                  },
                ],
              },
            },
          ],
        },
      },
      { parent: this },
    );

    const tuning = args.controllerTuning;
    this.controllerConfig = tuning
      ? new k8s.core.v1.ConfigMapPatch(
          `${name}-controller-tuning`,
          {
            metadata: { name: tuning.configMapName, namespace: tuning.namespace },
            data: buildControllerTuningData(tuning),
          },
          { parent: this },
        )
      : undefined;

    this.host = pulumi.output(args.host);
    this.url = pulumi.interpolate`${tls ? "https" : "http"}://${args.host}`;
    this.registerOutputs({ host: this.host, url: this.url });
  }
}
