/**
 * Validates Kubernetes manifests against the API's JSON schemas (kubernetes-models, and the
 * @kubernetes-models packages for the Prometheus Operator, Gateway API and KEDA CRDs). A kind without a
 * known schema is an error, never a silent pass. Names are checked too: the schemas do not.
 */
const MODULES: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "gateway.networking.k8s.io/v1": "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
};

const CLUSTER_SCOPED = new Set(["Namespace"]);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

interface Model {
  validate(): void;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [k: string]: unknown };
  [field: string]: unknown;
}

/** Problems with one manifest; empty when it is valid. */
export function validateManifest(manifest: Manifest): string[] {
  const where = `${manifest.apiVersion}/${manifest.kind} ${manifest.metadata?.name ?? "(no name)"}`;
  const modulePath = MODULES[manifest.apiVersion];
  if (!modulePath) return [`${where}: no schema known for apiVersion ${manifest.apiVersion}`];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ModelClass = (require(modulePath) as Record<string, new (data: unknown) => Model>)[manifest.kind];
  if (!ModelClass) return [`${where}: no schema known for kind ${manifest.kind}`];
  const problems: string[] = [];
  try {
    new ModelClass(manifest).validate();
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
  }
  const name = manifest.metadata?.name;
  if (typeof name !== "string" || !DNS_SUBDOMAIN.test(name)) problems.push(`${where}: metadata.name must be a DNS subdomain`);
  if (!CLUSTER_SCOPED.has(manifest.kind) && !manifest.metadata?.namespace) problems.push(`${where}: namespaced kind without metadata.namespace`);
  return problems;
}
