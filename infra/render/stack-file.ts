/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program: a
 * flat map of `project:key` to strings, objects JSON-encoded. Without the CLI nothing can be
 * decrypted, so every `secure:` value becomes a placeholder and its key is marked secret.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** Long enough to pass the length checks secrets have (the admin key needs 16). */
export const SECRET_CONFIG_PLACEHOLDER = "<secret-not-decrypted-in-render>";

export interface StackFileConfig {
  project: string;
  config: Record<string, string>;
  secretKeys: string[];
}

function replaceSecure(value: unknown): { value: unknown; secret: boolean } {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === "secure") return { value: SECRET_CONFIG_PLACEHOLDER, secret: true };
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const r = replaceSecure(v);
      out[k] = r.value;
      secret ||= r.secret;
    }
    return { value: out, secret };
  }
  if (Array.isArray(value)) {
    const items = value.map(replaceSecure);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  return { value, secret: false };
}

export function readStackFile(dir: string, stack: string): StackFileConfig {
  const projectFile = join(dir, "Pulumi.yaml");
  const stackFile = join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(projectFile)) throw new Error(`no Pulumi.yaml in ${dir}`);
  if (!existsSync(stackFile)) throw new Error(`no stack file ${stackFile} (stacks: Pulumi.<stack>.yaml next to Pulumi.yaml)`);
  const project = String((parse(readFileSync(projectFile, "utf8")) as { name: string }).name);
  const doc = (parse(readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown>; environment?: unknown };
  if (doc.environment !== undefined) throw new Error(`${stackFile}: ESC environments cannot be resolved without the Pulumi CLI`);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, rawValue] of Object.entries(doc.config ?? {})) {
    // `namespace` alone means `<project>:namespace`.
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    const { value, secret } = replaceSecure(rawValue);
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
    if (secret) secretKeys.push(key);
  }
  return { project, config, secretKeys };
}
