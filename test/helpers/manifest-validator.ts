/**
 * Validates Kubernetes manifests against the API's JSON schemas (kubernetes-models, and the
 * @kubernetes-models packages for the Prometheus Operator, Gateway API and KEDA CRDs). A kind without a
 * known schema is an error, never a silent pass. Names are checked too: the schemas do not.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const CLUSTER_SCOPED = new Set(["Namespace"]);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [k: string]: unknown };
  [field: string]: unknown;
}

/** Problems with one manifest; empty when it is valid. */
export function validateManifest(manifest: Manifest): string[] {
  return validateManifests([manifest])[0];
}

/**
 * Problems with each manifest, in order. The schemas are ES modules, which jest's CommonJS runtime
 * cannot load, so they are checked in a child Node (this one's binary) by validate-manifests.mjs.
 */
export function validateManifests(manifests: Manifest[]): string[][] {
  const child = spawnSync(process.execPath, [join(__dirname, "validate-manifests.mjs")], { input: JSON.stringify(manifests), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`manifest validation failed to run: ${child.stderr}`);
  const schemaProblems = JSON.parse(child.stdout) as string[][];
  return manifests.map((manifest, i) => {
    const where = `${manifest.apiVersion}/${manifest.kind} ${manifest.metadata?.name ?? "(no name)"}`;
    const problems = [...schemaProblems[i]];
    const name = manifest.metadata?.name;
    if (typeof name !== "string" || !DNS_SUBDOMAIN.test(name)) problems.push(`${where}: metadata.name must be a DNS subdomain`);
    if (!CLUSTER_SCOPED.has(manifest.kind) && !manifest.metadata?.namespace) problems.push(`${where}: namespaced kind without metadata.namespace`);
    return problems;
  });
}
