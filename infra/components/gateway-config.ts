/**
 * The gateway's configuration in the cluster: a ConfigMap with the YAML (checked with the gateway's
 * own loader when the component is built, so a wrong config fails `pulumi preview`) and a Secret
 * with every value the YAML's `${VAR}` placeholders name: upstream keys, Redis URL and password,
 * admin key. The Secret is auto-named: a change creates a new object under a new name, the
 * Deployment points at it, and the pods roll (environment variables need a restart). The ConfigMap
 * keeps one name and is changed in place: the kubelet updates the mounted file and the gateway
 * reloads it without a restart; `restartChecksum`, the pod annotation, rolls the pods only when a
 * field that needs a restart changed (gateway/src/reload/reload-scope.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig as ValidGatewayConfig, GatewayConfigInput } from "../../gateway/src/config/schema";
import { buildGatewayConfigDocument, SECRET_ENV, upstreamKeyEnvName, type GatewayConfigDocument } from "../builders/gateway-config-doc";
import { knownValue } from "../builders/known-input";
import { componentLabels } from "../builders/labels";
import { CONFIG_FILE } from "../builders/pod-spec";

export interface GatewayConfigArgs {
  namespace: pulumi.Input<string>;
  /**
   * The gateway config, typed as the gateway reads it. Given plainly, it is checked before any
   * resource exists; given as an Output (read from another stack, built from other outputs), it
   * is checked once known, and a problem fails the preview from there.
   */
  config: pulumi.Input<GatewayConfigInput>;
  /** Upstream API keys by `model/target`; each target's apiKey becomes `${UPSTREAM_KEY_<MODEL>_<TARGET>}`. */
  upstreamKeys?: Record<string, pulumi.Input<string>>;
  /** The admin API key (>= 16 characters); the admin API is off without it. */
  adminKey?: pulumi.Input<string>;
  /** The Redis the gateway shares state through (limits, spend, keys). */
  redis?: { url: pulumi.Input<string>; password?: pulumi.Input<string> };
  /** The response cache's own Redis (needs `cache.enabled`); without it the cache stays in pod memory. */
  cacheRedis?: { url: pulumi.Input<string>; password?: pulumi.Input<string> };
  /** Further secret env vars, for `${VAR}` placeholders written in the config itself. */
  extraSecretEnv?: Record<string, pulumi.Input<string>>;
  /**
   * `model/target` refs whose key comes from a Secret made outside Pulumi (External Secrets):
   * their apiKey becomes the same `${UPSTREAM_KEY_<MODEL>_<TARGET>}` placeholder, and that Secret,
   * added to the pod's envFrom, must hold the variable. Pulumi never sees the value.
   */
  externalUpstreamKeyRefs?: pulumi.Input<string[]>;
  /** The instance name the labels carry (defaults to this component's name). */
  instance?: string;
}

export class GatewayConfig extends pulumi.ComponentResource {
  public readonly configMap: k8s.core.v1.ConfigMap;
  public readonly secret: k8s.core.v1.Secret;
  public readonly configMapName: pulumi.Output<string>;
  public readonly secretName: pulumi.Output<string>;
  /** sha256 of the YAML. */
  public readonly checksum: pulumi.Output<string>;
  /** sha256 of the restart-only fields, for the pod template's `checksum/config` annotation. */
  public readonly restartChecksum: pulumi.Output<string>;
  /** The rendered document (YAML, env names) and the config as the gateway will load it. */
  public readonly document: pulumi.Output<GatewayConfigDocument>;
  public readonly effectiveConfig: pulumi.Output<ValidGatewayConfig>;
  /** `model/target` of http(s) targets that send no API key (fine for keyless upstreams). */
  public readonly keylessTargets: pulumi.Output<string[]>;

  constructor(name: string, args: GatewayConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:kubernetes:GatewayConfig", name, {}, opts);
    const build = (config: GatewayConfigInput, externalRefs: string[]) =>
      buildGatewayConfigDocument(config, {
        upstreamKeyRefs: [...new Set([...Object.keys(args.upstreamKeys ?? {}), ...externalRefs])],
        redis: args.redis ? { password: args.redis.password !== undefined } : undefined,
        cacheRedis: args.cacheRedis ? { password: args.cacheRedis.password !== undefined } : undefined,
        adminKey: args.adminKey !== undefined,
        extraSecretEnvNames: Object.keys(args.extraSecretEnv ?? {}),
      });
    const knownConfig = knownValue(args.config);
    const knownRefs = knownValue(args.externalUpstreamKeyRefs ?? []);
    // Known now: throws the gateway's ConfigError, listing every problem, before any resource exists.
    this.document =
      knownConfig !== undefined && knownRefs !== undefined
        ? pulumi.output(build(knownConfig, knownRefs))
        : pulumi.all([args.config, args.externalUpstreamKeyRefs ?? []]).apply(([config, refs]) => build(config as GatewayConfigInput, refs));
    this.effectiveConfig = this.document.apply((doc) => doc.effective);
    this.keylessTargets = this.effectiveConfig.apply((config) => {
      const keyless = config.models.flatMap((m) => m.targets.filter((t) => /^https?:/.test(t.baseUrl) && !t.apiKey).map((t) => `${m.name}/${t.name}`));
      // Most likely a secret not set yet on this stack; say so at preview rather than as 401s later.
      for (const ref of keyless) void pulumi.log.warn(`upstream target ${ref} has no API key; if it needs one, set upstreamKeys["${ref}"] as a secret`, this);
      return keyless;
    });
    const labels = componentLabels(args.instance ?? name, "gateway");

    // A stable name, so a change reaches running pods through their volume instead of a new
    // object that the pod template would have to point at (which rolls every pod). Replaced, when
    // the provider replaces ConfigMaps on change, by delete-then-create under the same name.
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-configmap`,
      { metadata: { name: `${name}-configmap`, namespace: args.namespace, labels }, data: { [CONFIG_FILE]: this.document.apply((doc) => doc.yaml) } },
      { parent: this, deleteBeforeReplace: true },
    );

    const secretData: Record<string, pulumi.Input<string>> = {};
    // The env names follow from the refs alone (the document checks each ref names a target).
    for (const [ref, value] of Object.entries(args.upstreamKeys ?? {})) secretData[upstreamKeyEnvNameOfRef(ref)] = value;
    if (args.redis) {
      secretData[SECRET_ENV.redisUrl] = args.redis.url;
      if (args.redis.password !== undefined) secretData[SECRET_ENV.redisPassword] = args.redis.password;
    }
    if (args.cacheRedis) {
      secretData[SECRET_ENV.cacheRedisUrl] = args.cacheRedis.url;
      if (args.cacheRedis.password !== undefined) secretData[SECRET_ENV.cacheRedisPassword] = args.cacheRedis.password;
    }
    if (args.adminKey !== undefined) secretData[SECRET_ENV.adminKey] = args.adminKey;
    Object.assign(secretData, args.extraSecretEnv);

    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { namespace: args.namespace, labels },
        type: "Opaque",
        stringData: Object.fromEntries(Object.entries(secretData).map(([k, v]) => [k, pulumi.secret(v)])),
      },
      { parent: this },
    );

    this.configMapName = this.configMap.metadata.name;
    this.secretName = this.secret.metadata.name;
    this.checksum = this.document.apply((doc) => doc.checksum);
    this.restartChecksum = this.document.apply((doc) => doc.restartChecksum);
    this.registerOutputs({
      keylessTargets: this.keylessTargets,
      configMapName: this.configMapName,
      secretName: this.secretName,
      checksum: this.checksum,
      restartChecksum: this.restartChecksum,
    });
  }
}

/** `model/target` → its env var (the last `/` splits: model names may hold one). */
function upstreamKeyEnvNameOfRef(ref: string): string {
  const slash = ref.lastIndexOf("/");
  return slash > 0 ? upstreamKeyEnvName(ref.slice(0, slash), ref.slice(slash + 1)) : upstreamKeyEnvName(ref, "");
}
