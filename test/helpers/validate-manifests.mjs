// Validates Kubernetes manifests (JSON array on stdin) against the API schemas of kubernetes-models
// and the @kubernetes-models CRD packages, which are ES modules only: jest's CommonJS runtime cannot
// load them, so manifest-validator.ts runs this in a child Node. Prints one array of problems per manifest.
import { readFileSync } from "node:fs";

const MODULES = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "gateway.networking.k8s.io/v1": "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
};

const manifests = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const manifest of manifests) {
  const where = `${manifest.apiVersion}/${manifest.kind} ${manifest.metadata?.name ?? "(no name)"}`;
  const modulePath = MODULES[manifest.apiVersion];
  if (!modulePath) {
    results.push([`${where}: no schema known for apiVersion ${manifest.apiVersion}`]);
    continue;
  }
  const ModelClass = (await import(modulePath))[manifest.kind];
  if (!ModelClass) {
    results.push([`${where}: no schema known for kind ${manifest.kind}`]);
    continue;
  }
  try {
    new ModelClass(manifest).validate();
    results.push([]);
  } catch (err) {
    results.push([`${where}: ${err.message}`]);
  }
}
process.stdout.write(JSON.stringify(results));
