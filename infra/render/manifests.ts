/**
 * Turns the resources a program registered (under mocks) into the Kubernetes manifests the
 * provider would apply: secrets replaced by a placeholder, in install order, as YAML documents.
 */
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { RecordedResource } from "./mocks";

export const SECRET_PLACEHOLDER = "<secret>";

export interface RenderedManifest {
  /** The manifest as applied (for a patch: the fields applied to the existing object). */
  manifest: { apiVersion: string; kind: string; metadata: Record<string, any>; [field: string]: unknown };
  pulumiType: string;
  pulumiName: string;
  /** A server-side apply patch of an object someone else owns (e.g. ConfigMapPatch). */
  patch: boolean;
}

/** Install order, as Helm does it: what others refer to comes first. */
const KIND_ORDER = [
  "Namespace", "NetworkPolicy", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "Service",
  "StatefulSet", "Deployment", "HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget", "Ingress", "HTTPRoute", "ServiceMonitor", "PrometheusRule",
];

const sig = pulumi.runtime.specialSigKey;
const secretSig = pulumi.runtime.specialSecretSig;

function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[sig] === secretSig;
}

/** Every secret becomes the placeholder (a map of secrets keeps its keys); undefined is dropped. */
export function redactSecrets(value: unknown, inSecret = false): unknown {
  if (isSecretValue(value)) return redactSecrets(value.value, true);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, inSecret));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = redactSecrets(item, inSecret);
    return out;
  }
  return inSecret ? SECRET_PLACEHOLDER : value;
}

/** Secret wrappers removed, values kept: for tests that check what the Secret would hold. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = unwrapSecrets(item);
    return out;
  }
  return value;
}

/** `kubernetes:apps/v1:Deployment` → `apps/v1`, `Deployment`; core is `v1`. */
function apiVersionAndKind(type: string): { apiVersion: string; kind: string } {
  const [, groupVersion, kind] = type.split(":");
  return { apiVersion: groupVersion.replace(/^core\//, ""), kind };
}

export function toManifests(resources: RecordedResource[], options: { redact: boolean } = { redact: true }): RenderedManifest[] {
  const rendered = resources
    .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm"))
    .map((r): RenderedManifest => {
      const typed = apiVersionAndKind(r.type);
      const patch = typed.kind.endsWith("Patch");
      const body = (options.redact ? redactSecrets(r.state) : unwrapSecrets(r.state)) as Record<string, any>;
      // Secret payloads are redacted even when not marked secret, so a render never leaks one.
      if (options.redact && typed.kind === "Secret") {
        for (const field of ["data", "stringData"]) {
          if (body[field]) body[field] = Object.fromEntries(Object.keys(body[field]).map((k) => [k, SECRET_PLACEHOLDER]));
        }
      }
      const kind = patch ? typed.kind.slice(0, -"Patch".length) : (body.kind ?? typed.kind);
      const { apiVersion: _a, kind: _k, metadata = {}, ...rest } = body;
      // name and namespace first, as people write them.
      const { name, namespace, ...more } = metadata as Record<string, unknown>;
      return {
        manifest: { apiVersion: body.apiVersion ?? typed.apiVersion, kind, metadata: { name, namespace, ...more }, ...rest },
        pulumiType: r.type,
        pulumiName: r.name,
        patch,
      };
    });
  const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
  return rendered.sort(
    (a, b) =>
      rank(a.manifest.kind) - rank(b.manifest.kind) ||
      String(a.manifest.metadata.namespace ?? "").localeCompare(String(b.manifest.metadata.namespace ?? "")) ||
      String(a.manifest.metadata.name).localeCompare(String(b.manifest.metadata.name)),
  );
}

/** Multi-document YAML, each document headed by the Pulumi resource it comes from. */
export function manifestsToYaml(manifests: RenderedManifest[]): string {
  return manifests
    .map((m) => {
      const note = m.patch ? " (patch: only these fields are applied to the existing object)" : "";
      // YAML 1.1 quoting: kubectl and most policy tools read `off` or `yes` unquoted as booleans.
      return `---\n# ${m.pulumiType} "${m.pulumiName}"${note}\n${stringify(m.manifest, { lineWidth: 0, version: "1.1" })}`;
    })
    .join("");
}
