/**
 * The render CLI: `npm run render -- --stack prod` prints readable multi-document YAML of the
 * manifests the stack would create, built under mocks from Pulumi.<stack>.yaml. Secrets never
 * appear: stack secrets (`secure:` values) cannot be decrypted and every Secret is redacted.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { render } from "../../infra/render";
import { readStackFile, SECRET_CONFIG_PLACEHOLDER } from "../../infra/render/stack-file";
import { ROOT } from "../helpers/pulumi-mocks";

const CIPHERTEXT = "v1:c2VjcmV0LWNpcGhlcnRleHQ=";

function kindsOf(yaml: string): string[] {
  return parseAllDocuments(yaml).map((d) => (d.toJS() as { kind: string }).kind);
}

test("the stack file is read the way the CLI hands config over; secure values become placeholders", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aigw-render-"));
  try {
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    writeFileSync(
      join(dir, "Pulumi.s.yaml"),
      `config:\n  ai-gateway:adminKey:\n    secure: ${CIPHERTEXT}\n  ai-gateway:upstreamKeys:\n    gpt-4o/openai:\n      secure: ${CIPHERTEXT}\n  namespace: short-form\n  kubernetes:context: kind\n`,
    );
    const file = readStackFile(dir, "s");
    expect(file.project).toBe("ai-gateway");
    expect(file.config).toEqual({
      "ai-gateway:adminKey": SECRET_CONFIG_PLACEHOLDER,
      "ai-gateway:upstreamKeys": JSON.stringify({ "gpt-4o/openai": SECRET_CONFIG_PLACEHOLDER }),
      "ai-gateway:namespace": "short-form",
      "kubernetes:context": "kind",
    });
    expect(file.secretKeys).toEqual(["ai-gateway:adminKey", "ai-gateway:upstreamKeys"]);
    expect(() => readStackFile(dir, "missing")).toThrow(/no stack file/);
    // A bad stack file fails the render with the same message `pulumi preview` would give.
    writeFileSync(join(dir, "Pulumi.bad.yaml"), readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8") + "  ai-gateway:replica: 2\n");
    await expect(render("bad", dir)).rejects.toThrow("invalid stack config:\n  - unknown config key(s) ai-gateway:replica");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prod renders every object in install order, secrets redacted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aigw-render-"));
  try {
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    // Prod as it is once secrets are set: encrypted values in the stack file.
    const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");
    writeFileSync(
      join(dir, "Pulumi.prod.yaml"),
      `${prod}  ai-gateway:adminKey:\n    secure: ${CIPHERTEXT}\n  ai-gateway:upstreamKeys:\n    gpt-4o/openai:\n      secure: ${CIPHERTEXT}\n`,
    );
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const yaml = await render("prod", dir).finally(() => warn.mockRestore());
    expect(yaml.startsWith('# Kubernetes manifests of stack "prod"')).toBe(true);
    expect(kindsOf(yaml)).toEqual([
      "Namespace", "NetworkPolicy", "NetworkPolicy", "NetworkPolicy", "ServiceAccount", "Secret", "Secret", "Secret", "ConfigMap", "ConfigMap",
      "Service", "Service", "Service", "Service", "Service", "StatefulSet", "StatefulSet", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "HTTPRoute",
      "ServiceMonitor", "PrometheusRule",
    ]);
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string }; stringData?: Record<string, string>; data?: Record<string, string> });
    const gatewaySecret = docs.find((d) => d.kind === "Secret" && d.metadata.name.startsWith("ai-gateway-config-secret"))!;
    expect(gatewaySecret.stringData).toEqual({
      CACHE_REDIS_PASSWORD: "<secret>",
      CACHE_REDIS_URL: "<secret>",
      GATEWAY_ADMIN_KEY: "<secret>",
      REDIS_PASSWORD: "<secret>",
      REDIS_URL: "<secret>",
      UPSTREAM_KEY_GPT_4O_OPENAI: "<secret>",
    });
    expect(yaml).not.toContain(CIPHERTEXT);
    expect(yaml).not.toContain(SECRET_CONFIG_PLACEHOLDER);
    expect(yaml).not.toMatch(/mock-password-/);
    // The gateway config stays readable: a block of YAML with placeholders.
    const configMap = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name.startsWith("ai-gateway-config-configmap"))!;
    expect(parse(configMap.data!["config.yaml"]).models[0].targets[0].apiKey).toBe("${UPSTREAM_KEY_GPT_4O_OPENAI}");
    expect(yaml).toMatch(/timeouts:\n\s+backendRequest: 430s\n\s+request: 430s/);
    // The admin listener: its own Service port, scraped there, never the route's backend.
    const objects = docs as unknown as { kind: string; metadata: { name: string }; spec: Record<string, any> }[];
    const service = objects.find((d) => d.kind === "Service" && d.metadata.name === "ai-gateway")!;
    expect(service.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [p.name, p.port, p.targetPort])).toEqual([["http", 80, "http"], ["admin", 8081, "admin"]]);
    expect(objects.find((d) => d.kind === "ServiceMonitor")!.spec.endpoints.map((e: { port: string }) => e.port)).toEqual(["admin"]);
    expect(objects.find((d) => d.kind === "HTTPRoute")!.spec.rules[0].backendRefs.map((b: { port: number }) => b.port)).toEqual([80]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an ingress-nginx Ingress with controller tuning renders its patch and keeps YAML 1.1 booleans as strings", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aigw-render-"));
  try {
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    // Prod during a migration: the Gateway API route plus the old Ingress with the article's controller tuning.
    const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");
    writeFileSync(
      join(dir, "Pulumi.mig.yaml"),
      `${prod}  ai-gateway:ingress:\n    host: ai.example.com\n    tls:\n      clusterIssuer: letsencrypt-prod\n    controllerTuning:\n      namespace: ingress-nginx\n      configMapName: ingress-nginx-controller\n`,
    );
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const yaml = await render("mig", dir).finally(() => warn.mockRestore());
    expect(kindsOf(yaml).filter((k) => k === "Ingress" || k === "HTTPRoute").sort()).toEqual(["HTTPRoute", "Ingress"]);
    // Values YAML 1.1 tools would read as booleans stay strings.
    expect(yaml).toContain('nginx.ingress.kubernetes.io/proxy-buffering: "off"');
    expect(yaml).toContain('# kubernetes:core/v1:ConfigMapPatch "ai-gateway-ingress-controller-tuning" (patch: only these fields are applied to the existing object)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run render: the compiled CLI prints the prod manifests, and fails clearly on a bad stack", () => {
  // Compiled next to node_modules (not into dist/, which running gateway tests read).
  const out = join(ROOT, "node_modules", ".cache", "aigw-render-cli");
  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "infra/tsconfig.json", "--outDir", out], { cwd: ROOT, encoding: "utf8" });
  try {
    expect(tsc.stdout + tsc.stderr).toBe("");
    runCli(join(out, "infra", "render.js"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 90_000);

function runCli(cli: string): void {
  const ok = spawnSync(process.execPath, [cli, "--stack", "prod"], { cwd: ROOT, encoding: "utf8" });
  // Only warnings (the prod file sets no upstream keys yet); the YAML is on stdout.
  expect(ok.stderr.trim().split("\n").every((line) => line.startsWith("warning: "))).toBe(true);
  expect(ok.stderr).toContain('upstream target gpt-4o/openai has no API key; if it needs one, set upstreamKeys["gpt-4o/openai"] as a secret');
  expect(ok.status).toBe(0);
  expect(kindsOf(ok.stdout)).toHaveLength(23);
  const bad = spawnSync(process.execPath, [cli, "--stack", "nope"], { cwd: ROOT, encoding: "utf8" });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/^render: no stack file .*Pulumi\.nope\.yaml/);
  const usage = spawnSync(process.execPath, [cli], { cwd: ROOT, encoding: "utf8" });
  expect(usage.stderr).toMatch(/usage: npm run render -- --stack/);
  // The script really is what this test runs.
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  expect(pkg.scripts.render).toBe("tsc -p infra/tsconfig.json && node dist/infra/render.js");
}
