/**
 * The gateway config as `pulumi.Input<T>`: an Output (another stack's output, a secret, something
 * built from other resources) renders exactly what the same config given plainly renders; every
 * resource is still registered outside `.apply()` (so `pulumi preview` shows it); a wrong Output
 * config fails once known, with the gateway's own problem list.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { AiGateway, type AiGatewayArgs } from "../../infra/components/ai-gateway";
import { GatewayConfig } from "../../infra/components/gateway-config";
import { settled } from "../../infra/render/mocks";
import { childrenOf, installMocks, ROOT, stateOf, valueOf } from "../helpers/pulumi-mocks";

const mocks = installMocks();
const DIGEST = `r.example.com/gw@sha256:${"d".repeat(64)}`;
const CONFIG: GatewayConfigInput = {
  server: { port: 9000, adminPort: 9464 },
  upstreamDefaults: { maxStreamMs: 120_000, deadlineMs: 90_000 },
  models: [{ name: "gpt-4o", targets: [{ name: "openai", baseUrl: "https://api.openai.com/v1" }] }],
};
/** What a StackReference or another resource hands over: known only at deployment time. */
const later = <T>(value: T): pulumi.Output<T> => pulumi.output(Promise.resolve(value)) as unknown as pulumi.Output<T>;

/** The recorded state of every custom resource a component tree registered, by type and name suffix. */
async function statesOf(prefix: string): Promise<Record<string, unknown>> {
  await settled();
  const out: Record<string, unknown> = {};
  for (const r of mocks.resources.filter((each) => each.custom && each.name.startsWith(`${prefix}-`))) {
    const state = await stateOf(mocks, r.type, r.name);
    // Auto-names carry a random suffix; the rest must match exactly.
    out[`${r.type} ${r.name.slice(prefix.length)}`] = JSON.parse(JSON.stringify(state).replace(new RegExp(`${prefix}(?=[-"\\\\])`, "g"), "X").replace(/-[0-9a-f]{8}"/g, '"'));
  }
  return out;
}

test("GatewayConfig: an Output config (a secret one too) makes the same ConfigMap, Secret and checksum as the plain config", async () => {
  const plain = new GatewayConfig("cin-plain", { namespace: "ns", config: CONFIG, upstreamKeys: { "gpt-4o/openai": "sk-x" } });
  const output = new GatewayConfig("cin-output", { namespace: "ns", config: later(CONFIG), upstreamKeys: { "gpt-4o/openai": "sk-x" } });
  const secret = new GatewayConfig("cin-secret", { namespace: "ns", config: pulumi.secret(CONFIG), upstreamKeys: { "gpt-4o/openai": "sk-x" } });
  // Registered outside apply: both children exist before any Output resolved.
  for (const cfg of [output, secret]) expect(childrenOf(cfg).map((c) => c.split(" ")[0])).toEqual(["kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"]);
  const expected = await statesOf("cin-plain");
  expect(await statesOf("cin-output")).toEqual(expected);
  expect(await statesOf("cin-secret")).toEqual(expected);
  expect(await valueOf(output.checksum)).toBe(await valueOf(plain.checksum));
  expect((await valueOf(output.effectiveConfig)).server).toMatchObject({ port: 9000, adminPort: 9464, adminHost: "0.0.0.0" });
  expect(await valueOf(output.keylessTargets)).toEqual([]);
});

test("AiGateway: an Output config reaches every derived setting (ports, drain time, route timeouts, policy ports) exactly as a plain one", async () => {
  const args = (config: AiGatewayArgs["config"], refs: AiGatewayArgs["existingSecret"]): AiGatewayArgs => ({
    namespace: "ns",
    createNamespace: false,
    image: { imageReference: DIGEST },
    config,
    existingSecret: refs,
    replicas: 2,
    route: { parentRefs: [{ name: "public", namespace: "gateway-system" }] },
    networkPolicy: {},
    monitoring: {},
  });
  const plain = new AiGateway("aig-plain", args(CONFIG, { name: "ext", upstreamKeyRefs: ["gpt-4o/openai"] }));
  const output = new AiGateway("aig-output", args(later(CONFIG), { name: "ext", upstreamKeyRefs: later(["gpt-4o/openai"]) }));
  expect(childrenOf(output).map((c) => c.replace("aig-output", "X"))).toEqual(childrenOf(plain).map((c) => c.replace("aig-plain", "X")));
  const expected = await statesOf("aig-plain");
  expect(await statesOf("aig-output")).toEqual(expected);
  // The derived values themselves, so that "equal" cannot mean "equally missing".
  const deployment = await stateOf(mocks, "kubernetes:apps/v1:Deployment", "aig-output-deployment");
  expect(deployment.spec.template.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([9000, 9464]);
  expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(10 + 120 + 10); // preStop + drain (the longest stream) + margin
  const route = await stateOf(mocks, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "aig-output-route-httproute");
  expect(route.spec.rules[0].timeouts).toEqual({ request: "220s", backendRequest: "220s" });
  const policy = await stateOf(mocks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "aig-output-netpol-gateway");
  expect(policy.spec.ingress.map((r: { ports: { port: number }[] }) => r.ports[0].port)).toEqual([9000, 9464]);
  const configMap = await stateOf(mocks, "kubernetes:core/v1:ConfigMap", "aig-output-config-configmap");
  expect(configMap.data["config.yaml"]).toContain("apiKey: ${UPSTREAM_KEY_GPT_4O_OPENAI}");
  expect(configMap.data["config.yaml"]).toContain("trustProxy: true");
});

test("a wrong config given as an Output fails the program once known, with the gateway's problem list", () => {
  // A failed Output ends the whole program (as `pulumi preview` does), so it runs in its own process:
  // this program, bundled with esbuild next to node_modules, under the same recording mocks.
  const dir = join(ROOT, "node_modules", ".cache", "aigw-config-inputs");
  mkdirSync(dir, { recursive: true });
  const source = join(dir, "program.ts");
  writeFileSync(
    source,
    `import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks } from ${JSON.stringify(join(ROOT, "infra/render/mocks"))};
import { GatewayConfig } from ${JSON.stringify(join(ROOT, "infra/components/gateway-config"))};
void pulumi.runtime.setMocks(new RecordingMocks(), "p", "s", true);
const bad = { models: [{ name: "m", fallbacks: ["missing"], targets: [{ name: "t", baseUrl: "mock://t" }] }] };
new GatewayConfig("late", { namespace: "ns", config: pulumi.output(Promise.resolve(bad)) });
console.log("constructed");
`,
  );
  const program = join(dir, "program.js");
  const bundle = spawnSync(join(ROOT, "node_modules/.bin/esbuild"), [source, "--bundle", "--platform=node", "--packages=external", "--log-level=error", `--outfile=${program}`], { encoding: "utf8" });
  expect(bundle.stderr).toBe("");
  const run = spawnSync(process.execPath, [program], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  // Constructed without throwing (nothing known yet), then failed when the config became known.
  expect(run.stdout).toContain("constructed");
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/invalid gateway config:\n {2}- models\[0\]\.fallbacks\[0\]: unknown model "missing"/);
});
