/**
 * The components installed the way another team installs them: `npm pack` (which builds through
 * `prepare`), the tarball installed into a fresh TypeScript project in a temp folder next to the
 * Pulumi SDKs only (no @pulumi/docker: an optional peer), the consumer's program type-checked
 * against the packed .d.ts files and run under Pulumi mocks in its own process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/pulumi-mocks";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const installed = (name: string) => (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import { AiGateway, buildAlertRuleGroups, type AiGatewayArgs } from "ai-gateway-stack";

const args: AiGatewayArgs = {
  namespace: "llm",
  image: { imageReference: "registry.example.com/ai-gateway@sha256:${"d".repeat(64)}" },
  config: { models: [{ name: "gpt-4o", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] }] },
  upstreamKeys: { "gpt-4o/openai": pulumi.secret("sk-test") },
  autoscaling: { minReplicas: 2, maxReplicas: 4 },
};
const gw = new AiGateway("consumer", args);
export const serviceUrl = gw.serviceUrl;
export const alertCount = buildAlertRuleGroups({ namespace: "llm", job: "consumer" }).flatMap((g) => g.rules).length;
`;

const RUNNER = `
const pulumi = require("@pulumi/pulumi");
const seen = [];
pulumi.runtime.setMocks({
  newResource: (a) => { seen.push(a.type + " " + a.name); return { id: a.name + "-id", state: { ...a.inputs, metadata: { name: a.name, ...(a.inputs.metadata || {}) } } }; },
  call: (a) => a.inputs,
}, "consumer", "test", true);
const program = require("./dist/index.js");
program.serviceUrl.apply((url) => {
  setTimeout(() => { process.stdout.write(JSON.stringify({ url, alerts: program.alertCount, seen: seen.sort() })); }, 200);
});
`;

test("npm pack, install into a fresh TypeScript project, type-check and run a program under mocks", () => {
  const dir = mkdtempSync(join(tmpdir(), "aigw-consumer-"));
  try {
    // Packed from a copy: `prepare` builds into dist/, which gateway processes of other suites run from.
    const src = join(dir, "src");
    mkdirSync(src);
    for (const entry of ["package.json", "package-lock.json", "tsconfig.json", "infra", "gateway", "README.md", "docs"]) cpSync(join(ROOT, entry), join(src, entry), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(src, "node_modules"), "dir");
    const packed = JSON.parse(execFileSync(NPM, ["pack", "--json", "--pack-destination", dir], { cwd: src, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    expect(files).toContain("dist/infra/index.js");
    expect(files).toContain("dist/infra/index.d.ts");
    expect(files).toContain("dist/gateway/src/config/validate.js");
    // No tests, sources or benchmark in the tarball.
    expect(files.filter((f) => f.startsWith("test/") || f.startsWith("bench/") || f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);

    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({
        name: "consumer",
        private: true,
        dependencies: {
          "ai-gateway-stack": `file:./${packed[0].filename}`,
          "@pulumi/pulumi": installed("@pulumi/pulumi"),
          "@pulumi/kubernetes": installed("@pulumi/kubernetes"),
          "@pulumi/random": installed("@pulumi/random"),
          typescript: installed("typescript"),
          "@types/node": installed("@types/node"),
        },
      }),
    );
    const install = spawnSync(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], { cwd: dir, encoding: "utf8", timeout: 240_000 });
    expect({ status: install.status, stderr: install.stderr }).toEqual({ status: 0, stderr: expect.any(String) });

    writeFileSync(join(dir, "index.ts"), PROGRAM);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", esModuleInterop: true, outDir: "dist", types: ["node"] }, files: ["index.ts"] }),
    );
    const tsc = spawnSync(process.execPath, [join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");

    writeFileSync(join(dir, "run.js"), RUNNER);
    const run = spawnSync(process.execPath, ["run.js"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    const result = JSON.parse(run.stdout) as { url: string; alerts: number; seen: string[] };
    expect(result.url).toBe("http://consumer.llm.svc.cluster.local:80");
    expect(result.alerts).toBe(13);
    expect(result.seen).toEqual(
      expect.arrayContaining([
        "ai-gateway:index:AiGateway consumer",
        "kubernetes:apps/v1:Deployment consumer-deployment",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler consumer-autoscaler-hpa",
        "kubernetes:core/v1:ConfigMap consumer-config-configmap",
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
