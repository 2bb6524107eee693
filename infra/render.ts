/**
 * `npm run render -- --stack prod [--out file.yaml]`: prints, as YAML, the Kubernetes manifests the
 * stack would create, built by running the real program under Pulumi's runtime mocks. For review
 * and policy checks (kubeconform, conftest...) where no cluster or Pulumi CLI is at hand. Secrets
 * are never shown: stack secrets cannot be decrypted here and every Secret's values are redacted.
 */
import { writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { manifestsToYaml, toManifests } from "./render/manifests";
import { RecordingMocks, settled } from "./render/mocks";
import { readStackFile } from "./render/stack-file";

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`);
  return value;
}

export async function render(stack: string, dir: string = process.cwd()): Promise<string> {
  const file = readStackFile(dir, stack);
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, file.project, stack, true);
  pulumi.runtime.setAllConfig(file.config, file.secretKeys);
  // Loaded after the mocks are in place, like a program is loaded after the engine connects.
  const { loadStackConfig } = await import("./config");
  const { deployStack } = await import("./stack");
  deployStack(loadStackConfig());
  await settled();
  const manifests = toManifests(mocks.resources, { redact: true });
  const header = [
    `# Kubernetes manifests of stack "${stack}" (Pulumi.${stack}.yaml), rendered under Pulumi runtime mocks.`,
    "# Not applied by Pulumi from this file: for review and policy checks only.",
    "# - Objects Pulumi auto-names show a stand-in suffix; the real one is random.",
    "# - The image digest is a stand-in until the image is built and pushed.",
    "# - Every Secret value and every stack secret is shown as <secret>.",
  ].join("\n");
  return `${header}\n${manifestsToYaml(manifests)}`;
}

async function main(argv: string[]): Promise<void> {
  const stack = option(argv, "--stack");
  if (!stack) throw new Error("usage: npm run render -- --stack <dev|prod|...> [--out manifests.yaml]");
  const yaml = await render(stack);
  const out = option(argv, "--out");
  if (out) writeFileSync(out, yaml);
  else process.stdout.write(yaml);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`render: ${err.message}\n`);
    process.exit(1);
  });
}
