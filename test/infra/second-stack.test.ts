/**
 * The second-stack example in docs/deploy.md runs: its code block is compiled, its import of the
 * package pointed at infra/index.ts, and run under mocks with a StackReference to this stack's
 * outputs. So the documented way of reusing the components is known to work.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { RecordingMocks, settled } from "../../infra/render/mocks";
import { customResources, ROOT, stateOf, valueOf } from "../helpers/pulumi-mocks";

const PLATFORM = {
  serviceUrl: "http://ai-gateway.ai-gateway.svc.cluster.local:80",
  imageReference: `ghcr.io/acme/ai-gateway@sha256:${"c".repeat(64)}`,
};

function exampleSource(): string {
  const doc = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");
  const match = /<!-- example:second-stack -->\s*```ts\n([\s\S]*?)```/.exec(doc);
  if (!match) throw new Error("docs/deploy.md has no second-stack example");
  return match[1];
}

test("the documented second stack deploys from this stack's outputs and the exported components", async () => {
  const mocks = new RecordingMocks({ "acme/ai-gateway/prod": PLATFORM });
  await pulumi.runtime.setMocks(mocks, "batch-jobs", "prod", true);
  pulumi.runtime.setAllConfig({ "batch-jobs:openaiKey": "sk-batch" }, ["batch-jobs:openaiKey"]);

  const source = exampleSource();
  expect(source).toContain('from "ai-gateway-stack"');
  // Beside node_modules so that its imports resolve; plain JS so that no transform is needed.
  const js = ts.transpileModule(source.replace('"ai-gateway-stack"', JSON.stringify(join(ROOT, "infra", "index"))), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const dir = join(ROOT, "node_modules", ".cache", "aigw-second-stack");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "index.js"), js);
  let program: { privateGatewayUrl: pulumi.Output<string> };
  try {
    program = require(join(dir, "index.js"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  await settled();
  expect(customResources(mocks.resources).filter((r) => r.startsWith("kubernetes:"))).toEqual([
    "kubernetes:apps/v1:Deployment batch-gateway-deployment",
    "kubernetes:apps/v1:Deployment summarizer",
    "kubernetes:core/v1:ConfigMap batch-gateway-config-configmap",
    "kubernetes:core/v1:Namespace batch",
    "kubernetes:core/v1:Secret batch-gateway-config-secret",
    "kubernetes:core/v1:Service batch-gateway-service",
    "kubernetes:core/v1:ServiceAccount batch-gateway-sa",
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule batch-gateway-alerts-prometheusrule",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor batch-gateway-alerts-servicemonitor",
    "kubernetes:policy/v1:PodDisruptionBudget batch-gateway-pdb",
  ]);
  const app = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "summarizer");
  expect(app.spec.template.spec.containers[0].env).toEqual([{ name: "OPENAI_BASE_URL", value: `${PLATFORM.serviceUrl}/v1` }]);
  const gateway = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "batch-gateway-deployment");
  expect(gateway.spec.replicas).toBe(2);
  expect(gateway.spec.template.spec.containers[0].image).toBe(PLATFORM.imageReference);
  // 10s preStop + 120s (the example's maxStreamMs) + 10s.
  expect(gateway.spec.template.spec.terminationGracePeriodSeconds).toBe(140);
  const secret = await stateOf(mocks, "kubernetes:core/v1:Secret", "batch-gateway-config-secret");
  expect(secret.stringData).toEqual({ UPSTREAM_KEY_GPT_4O_MINI_OPENAI: "sk-batch" });
  expect(await valueOf(program.privateGatewayUrl)).toBe("http://batch-gateway.batch-jobs.svc.cluster.local:80");
});

test("the example type-checks against the package's exported types (strict)", () => {
  const dir = join(ROOT, "node_modules", ".cache", "aigw-second-stack-types");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "index.ts");
  writeFileSync(file, exampleSource());
  try {
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      // The gateway's price table is a JSON module (the published .d.ts files do not import it).
      resolveJsonModule: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      types: ["node"],
      baseUrl: ROOT,
      paths: { "ai-gateway-stack": ["infra/index.ts"] },
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(problems).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
