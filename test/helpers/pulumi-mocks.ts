/**
 * Pulumi under runtime mocks for the infra tests: the same recording mocks the render CLI uses,
 * plus helpers to resolve Outputs, list a component's direct children and load a stack's config.
 * Import this module before any module that creates resources.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { RecordingMocks, settled, type RecordedResource } from "../../infra/render/mocks";
import { unwrapSecrets } from "../../infra/render/manifests";

export const PROJECT = "ai-gateway";
export const ROOT = join(__dirname, "..", "..");

export function installMocks(stack = "test"): RecordingMocks {
  const mocks = new RecordingMocks();
  void pulumi.runtime.setMocks(mocks, PROJECT, stack, true);
  return mocks;
}

/** The value of an Output (secrets unwrapped), once every registration has been answered. */
export async function valueOf<T>(output: pulumi.Input<T> | undefined): Promise<T> {
  await settled();
  return new Promise<T>((resolve) => pulumi.output(output as pulumi.Input<T>).apply((v) => (resolve(v as T), v)));
}

/** A resource's direct children as "type name", sorted: what a component created itself. */
export function childrenOf(resource: pulumi.Resource): string[] {
  const children = (resource as unknown as { __childResources?: Set<{ __pulumiType: string; __name: string }> }).__childResources;
  return [...(children ?? [])].map((c) => `${c.__pulumiType} ${c.__name}`).sort();
}

/** The one recorded resource of this type and name, its state with secrets unwrapped. */
export async function stateOf(mocks: RecordingMocks, type: string, name: string): Promise<Record<string, any>> {
  await settled();
  const found = mocks.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${type} "${name}", found ${found.length}: ${mocks.resources.map((r) => `${r.type} ${r.name}`).join(", ")}`);
  }
  return unwrapSecrets(found[0].state) as Record<string, any>;
}

/** Recorded custom resources as "type name", sorted. */
export function customResources(resources: RecordedResource[]): string[] {
  return resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name}`).sort();
}

/** Pulumi.<stack>.yaml as the CLI hands it to the program, plus extra (e.g. secret) values. */
export function stackConfigMap(stack: string, extra: Record<string, unknown> = {}): Record<string, string> {
  const doc = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const encode = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...doc.config, ...extra })) out[k.includes(":") ? k : `${PROJECT}:${k}`] = encode(v);
  return out;
}

/**
 * Runs the stack program for Pulumi.<stack>.yaml (plus `extra` config) under fresh mocks, as the
 * Pulumi CLI would run infra/main.ts, and waits for every registration.
 */
export async function runStack(stack: string, extra: Record<string, unknown> = {}) {
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, true);
  const { parseStackConfig } = await import("../../infra/config");
  const { deployStack } = await import("../../infra/stack");
  // Without an engine, pulumi.log.warn goes to console.warn: collect it instead.
  const warnings: string[] = [];
  const warn = jest.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.join(" ")));
  try {
    const result = deployStack(parseStackConfig(PROJECT, stackConfigMap(stack, extra)));
    await settled();
    return { mocks, warnings, ...result };
  } finally {
    warn.mockRestore();
  }
}
