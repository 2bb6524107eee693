/**
 * The knobs every chart has: pull secrets, placement, priority, pod metadata, extra env sources
 * and volumes (a CA bundle), from the component and from the stack config; and upstream keys from
 * a Secret made outside Pulumi, which Pulumi then never holds. Rendered pods stay schema-valid.
 */
import { parse } from "yaml";
import { installMocks, stateOf } from "../helpers/pulumi-mocks";
import { validateManifest } from "../helpers/manifest-validator";
import { buildGatewayPodSpec } from "../../infra/builders/pod-spec";
import { AiGateway } from "../../infra/components/ai-gateway";
import { parseStackConfig } from "../../infra/config";
import { toAiGatewayArgs } from "../../infra/stack";

const mocks = installMocks();
const DIGEST = `registry.example.com/gw@sha256:${"c".repeat(64)}`;
const models = [{ name: "gpt-4o", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] }];

const scheduling = {
  imagePullSecrets: ["regcred"],
  nodeSelector: { "kubernetes.io/arch": "amd64" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "llm", effect: "NoSchedule" }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["gw"] }] }] } } },
  priorityClassName: "high",
  podAnnotations: { "example.com/team": "platform" },
  podLabels: { team: "platform", "app.kubernetes.io/name": "not-the-selector" },
  envFrom: [{ configMapRef: { name: "proxy-env" } }],
  extraVolumes: [{ name: "ca", configMap: { name: "corp-ca" } }],
  extraVolumeMounts: [{ name: "ca", mountPath: "/etc/ssl/corp", readOnly: true }],
};

test("every knob lands in the pod spec, and unset knobs leave no field behind", () => {
  const base = {
    image: DIGEST,
    port: 8080,
    configMapName: "cm",
    secretName: "s",
    serviceAccountName: "sa",
    labels: { a: "b" },
    selector: { a: "b" },
    configChecksum: "c",
    preStopSeconds: 10,
    terminationGracePeriodSeconds: 30,
  };
  const plain = buildGatewayPodSpec(base) as unknown as Record<string, unknown>;
  for (const field of ["imagePullSecrets", "nodeSelector", "tolerations", "affinity", "priorityClassName"]) expect(field in plain).toBe(false);
  const spec = buildGatewayPodSpec({ ...base, scheduling }) as unknown as Record<string, any>;
  expect(spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
  expect([spec.nodeSelector, spec.tolerations, spec.affinity, spec.priorityClassName]).toEqual([scheduling.nodeSelector, scheduling.tolerations, scheduling.affinity, "high"]);
  expect(spec.containers[0].envFrom).toEqual([{ secretRef: { name: "s" } }, { configMapRef: { name: "proxy-env" } }]);
  expect(spec.containers[0].volumeMounts.at(-1)).toEqual(scheduling.extraVolumeMounts[0]);
  expect(spec.volumes.at(-1)).toEqual(scheduling.extraVolumes[0]);
});

test("AiGateway: knobs and an existing Secret reach the Deployment; that Secret's keys never pass through Pulumi", async () => {
  const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
  new AiGateway("knobs", {
    namespace: "llm",
    image: { imageReference: DIGEST },
    config: { models },
    deployment: { scheduling },
    existingSecret: { name: "llm-provider-keys", upstreamKeyRefs: ["gpt-4o/openai"] },
  });
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "knobs-deployment");
  warn.mockRestore();
  const template = deployment.spec.template;
  // The selector labels win over a pod label of the same name.
  expect(template.metadata.labels["app.kubernetes.io/name"]).toBe("ai-gateway");
  expect(template.metadata.labels.team).toBe("platform");
  expect(template.metadata.annotations["example.com/team"]).toBe("platform");
  const envFrom = template.spec.containers[0].envFrom;
  expect(envFrom.slice(1)).toEqual([{ configMapRef: { name: "proxy-env" } }, { secretRef: { name: "llm-provider-keys" } }]);
  expect(validateManifest({ apiVersion: "apps/v1", kind: "Deployment", metadata: deployment.metadata, spec: deployment.spec })).toEqual([]);

  const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "knobs-config-configmap");
  expect(parse(configMap.data["config.yaml"]).models[0].targets[0].apiKey).toBe("${UPSTREAM_KEY_GPT_4O_OPENAI}");
  const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "knobs-config-secret");
  expect(Object.keys(secret.stringData ?? {})).not.toContain("UPSTREAM_KEY_GPT_4O_OPENAI");
});

test("the stack config carries the same knobs, and refuses a volume without a name", () => {
  const raw = {
    "ai-gateway:namespace": "llm",
    "ai-gateway:image": JSON.stringify({ reference: DIGEST }),
    "ai-gateway:gateway": JSON.stringify({ models }),
    "ai-gateway:pod": JSON.stringify({ imagePullSecrets: ["regcred"], priorityClassName: "high", extraVolumes: [{ name: "ca", configMap: { name: "corp-ca" } }], extraVolumeMounts: [{ name: "ca", mountPath: "/etc/ssl/corp" }] }),
    "ai-gateway:existingSecret": JSON.stringify({ name: "llm-provider-keys", upstreamKeyRefs: ["gpt-4o/openai"] }),
  };
  const args = toAiGatewayArgs(parseStackConfig("ai-gateway", raw));
  expect(args.deployment?.scheduling?.imagePullSecrets).toEqual(["regcred"]);
  expect(args.deployment?.scheduling?.priorityClassName).toBe("high");
  expect(args.existingSecret).toEqual({ name: "llm-provider-keys", upstreamKeyRefs: ["gpt-4o/openai"] });
  expect(() => parseStackConfig("ai-gateway", { ...raw, "ai-gateway:pod": JSON.stringify({ extraVolumes: [{ configMap: { name: "x" } }] }) })).toThrow(/pod.*extraVolumes/s);
});
