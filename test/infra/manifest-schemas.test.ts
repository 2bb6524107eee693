/**
 * Every manifest of both stacks validates against the Kubernetes API schemas (kubernetes-models;
 * @kubernetes-models/prometheus-operator for the PrometheusRule and ServiceMonitor), and every
 * pod template meets the Pod Security "restricted" profile the namespace enforces. Negative
 * controls show the validator does reject broken manifests.
 */
import { toManifests } from "../../infra/render/manifests";
import { validateManifest, validateManifests, type Manifest } from "../helpers/manifest-validator";
import { runStack } from "../helpers/pulumi-mocks";

const SECRETS = { "ai-gateway:adminKey": "admin-key-for-tests-0123", "ai-gateway:upstreamKeys": { "gpt-4o/openai": "sk" } };

async function manifestsOf(stack: string): Promise<Manifest[]> {
  const { mocks } = await runStack(stack, stack === "prod" ? SECRETS : {});
  return toManifests(mocks.resources, { redact: false }).map((m) => m.manifest as Manifest);
}

/** The parts of Pod Security "restricted" these pods could get wrong. */
function restrictedProblems(m: Manifest): string[] {
  const template = (m.spec as { template?: { spec: any } } | undefined)?.template;
  if (!template) return [];
  const pod = template.spec;
  const problems: string[] = [];
  const where = `${m.kind} ${m.metadata.name}`;
  if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod runAsNonRoot`);
  if (pod.securityContext?.seccompProfile?.type !== "RuntimeDefault") problems.push(`${where}: seccompProfile RuntimeDefault`);
  if ((pod.volumes ?? []).some((v: Record<string, unknown>) => "hostPath" in v)) problems.push(`${where}: hostPath volume`);
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: host namespaces`);
  for (const c of pod.containers) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}/${c.name}: allowPrivilegeEscalation`);
    if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push(`${where}/${c.name}: drop ALL capabilities`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}/${c.name}: read-only root filesystem`);
    if (!c.resources?.limits?.memory || !c.resources?.requests?.cpu) problems.push(`${where}/${c.name}: requests and limits`);
  }
  return problems;
}

describe.each(["dev", "prod"])("stack %s", (stack) => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await manifestsOf(stack);
  });

  test("every manifest is valid against its schema", () => {
    expect(manifests).toHaveLength(stack === "prod" ? 23 : 12);
    expect(validateManifests(manifests).flat()).toEqual([]);
  });

  test("every pod template meets the restricted Pod Security profile", () => {
    const workloads = manifests.filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet");
    expect(workloads.map((m) => m.kind).sort()).toEqual(stack === "prod" ? ["Deployment", "StatefulSet", "StatefulSet"] : ["Deployment", "StatefulSet"]);
    expect(workloads.flatMap(restrictedProblems)).toEqual([]);
  });
});

test("the validator rejects what the API server would", () => {
  const deployment: Manifest = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "x", namespace: "n" },
    spec: { selector: { matchLabels: { a: "b" } }, template: { spec: { containers: [{ name: "c", ports: [{ containerPort: "8080" }] }] } } },
  };
  expect(validateManifest(deployment)[0]).toMatch(/containerPort must be integer/);
  const rule: Manifest = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "r", namespace: "n" },
    spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: "up == 0", for: "5 minutes" }] }] },
  };
  expect(validateManifest(rule)[0]).toMatch(/for must match pattern/);
  expect(validateManifest({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "n" } })).toEqual([
    "example.com/v1/Widget w: no schema known for apiVersion example.com/v1",
  ]);
  expect(validateManifest({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Not_A_Name" } })).toEqual([
    "v1/ConfigMap Not_A_Name: metadata.name must be a DNS subdomain",
    "v1/ConfigMap Not_A_Name: namespaced kind without metadata.namespace",
  ]);
});
