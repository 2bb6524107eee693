/**
 * Pulumi runtime mocks that record every resource the program registers, with the few computed
 * outputs the providers would fill in: auto-names for Kubernetes objects (with a stand-in suffix),
 * an image digest for docker.Image and a stand-in for random passwords. Used by the render CLI
 * and by the tests, so that both see the same resources.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  type: string;
  name: string;
  /** False for component resources. */
  custom: boolean;
  inputs: Record<string, any>;
  state: Record<string, any>;
}

/** What a mocked RandomPassword's `result` is: visibly not a real password. */
export const MOCK_PASSWORD_PREFIX = "mock-password-";

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

function mockState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
  const inputs = args.inputs ?? {};
  if (args.type === "docker:index/image:Image") {
    const repository = String(inputs.imageName).replace(/:[^/:]+$/, "");
    return { ...inputs, repoDigest: `${repository}@sha256:${hash(`${args.name}:${inputs.imageName}`, 64)}` };
  }
  if (args.type === "random:index/randomPassword:RandomPassword") {
    return { ...inputs, result: `${MOCK_PASSWORD_PREFIX}${hash(args.name, 16)}` };
  }
  if (args.type.startsWith("kubernetes:")) {
    // The provider auto-names objects without metadata.name: logical name plus a random suffix.
    const metadata = { ...inputs.metadata };
    metadata.name ??= `${args.name}-${hash(args.name, 8)}`;
    return { ...inputs, metadata };
  }
  return inputs;
}

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];

  /** `stackReferences`: the outputs a StackReference to each stack name sees. */
  constructor(private readonly stackReferences: Record<string, Record<string, unknown>> = {}) {}

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const state =
      args.type === "pulumi:pulumi:StackReference"
        ? { name: args.inputs.name, outputs: this.stackReferences[args.inputs.name] ?? {}, secretOutputNames: [] }
        : mockState(args);
    this.resources.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs ?? {}, state });
    return { id: args.custom === false ? undefined : `${args.name}-id`, state };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    return args.inputs;
  }

  /** Resources of a Pulumi type, e.g. `kubernetes:apps/v1:Deployment`. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  clear(): void {
    this.resources.length = 0;
  }
}

/** Waits until every resource registration the program started has been answered. */
export async function settled(): Promise<void> {
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (waitForRPCs) return waitForRPCs();
  // Fallback for SDKs that do not expose it: a few turns of the event loop.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The registered URNs, whose type part lists the parent chain
 * (`ai-gateway:index:AiGateway$ai-gateway:kubernetes:Redis$kubernetes:apps/v1:StatefulSet`).
 */
export function registeredUrns(): string[] {
  const monitor = pulumi.runtime.getMonitor() as unknown as { resources?: Map<string, unknown> } | undefined;
  return monitor?.resources ? [...monitor.resources.keys()] : [];
}

/** The types from the root to the resource, parsed from its URN. */
export function typeChainOf(type: string, name: string): string[] | undefined {
  const urn = registeredUrns().find((u) => {
    const parts = u.split("::");
    return parts[3] === name && parts[2].split("$").pop() === type;
  });
  return urn?.split("::")[2].split("$");
}
