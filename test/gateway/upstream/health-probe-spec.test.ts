/** How a target's active check is resolved: its own healthCheck, its provider's default probe, the global section. */
import { validateConfig } from "../../../gateway/src/config/validate";
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";
import { expectedStatusMatcher, resolveProbeSpec } from "../../../gateway/src/upstream/health-probe-spec";

type TargetInput = GatewayConfigInput["models"][number]["targets"][number];

function specFor(target: Partial<TargetInput>, healthCheck: GatewayConfigInput["healthCheck"] = {}) {
  const config = validateConfig({ healthCheck, models: [{ name: "m", targets: [{ name: "t", baseUrl: "https://api.example.com/v1", ...target }] }] });
  return resolveProbeSpec(config.models[0].targets[0], config.healthCheck);
}

/** The flat header list as an object, for readable assertions. */
const headersOf = (flat: string[]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])));

describe("resolveProbeSpec", () => {
  it("keeps the global section as every OpenAI-compatible target's default (OpenAI, DeepSeek, Gemini's compat endpoint)", () => {
    for (const baseUrl of ["https://api.openai.com/v1", "https://api.deepseek.com", "https://generativelanguage.googleapis.com/v1beta/openai"]) {
      const spec = specFor({ baseUrl, apiKey: "sk-x" });
      expect([spec.enabled, spec.method, spec.path, spec.body, spec.intervalMs, spec.timeoutMs, spec.rise, spec.fall]).toEqual([true, "GET", "/models", null, 10_000, 3_000, 2, 3]);
      expect(headersOf(spec.headers)).toEqual({ authorization: "Bearer sk-x" });
    }
    const custom = specFor({}, { enabled: false, path: "/health", intervalMs: 500, rise: 1 });
    expect([custom.enabled, custom.path, custom.intervalMs, custom.rise]).toEqual([false, "/health", 500, 1]);
  });

  it("probes Anthropic with GET /v1/models, x-api-key and anthropic-version (its base URL is the API's origin)", () => {
    const bare = specFor({ provider: "anthropic", baseUrl: "https://api.anthropic.com", apiKey: "sk-ant-x" });
    expect([bare.method, bare.path]).toEqual(["GET", "/v1/models"]);
    expect(headersOf(bare.headers)).toEqual({ "x-api-key": "sk-ant-x", "anthropic-version": "2023-06-01" });
    // The global path is for OpenAI-compatible targets; Anthropic's probe is its own.
    expect(specFor({ provider: "anthropic", baseUrl: "https://api.anthropic.com" }, { path: "/health" }).path).toBe("/v1/models");
  });

  it("lets a target set every field, its probe headers over the target's and the key's", () => {
    const spec = specFor(
      {
        apiKey: "sk-x",
        headers: { "X-Org": "o1", "X-Probe": "from-target" },
        healthCheck: { enabled: false, method: "POST", path: "/ping", body: '{"ping":1}', headers: { "X-Probe": "from-check", Authorization: "Bearer probe-only" }, expectedStatuses: [200, "3xx"], intervalMs: 50, timeoutMs: 20, rise: 5, fall: 6 },
      },
      { enabled: true },
    );
    expect([spec.enabled, spec.method, spec.path, spec.body?.toString(), spec.intervalMs, spec.timeoutMs, spec.rise, spec.fall, spec.expected]).toEqual([false, "POST", "/ping", '{"ping":1}', 50, 20, 5, 6, "200,3xx"]);
    expect(headersOf(spec.headers)).toEqual({ "x-org": "o1", "x-probe": "from-check", authorization: "Bearer probe-only", "content-type": "application/json" });
    expect(specFor({ healthCheck: { enabled: true } }, { enabled: false }).enabled).toBe(true);
  });

  it("refuses probe and forwarding settings that make no sense, with the field path", () => {
    expect(() => specFor({ healthCheck: { path: "models" } })).toThrow(/models\[0\]\.targets\[0\]\.healthCheck\.path/);
    expect(() => specFor({ healthCheck: { expectedStatuses: ["ok"] } })).toThrow(/expectedStatuses/);
    expect(() => specFor({ healthCheck: { expectedStatuses: [700] } })).toThrow(/expectedStatuses/);
    expect(() => specFor({ healthCheck: { method: "DELETE" as "GET" } })).toThrow(/healthCheck\.method/);
    expect(() => specFor({ forwardHeaders: ["Authorization"] })).toThrow(/forwardHeaders\[0\]: "authorization" is set by the gateway/);
    expect(() => specFor({ forwardHeaders: ["bad header"] })).toThrow(/not a valid header name/);
  });
});

describe("expectedStatusMatcher", () => {
  it("reads codes and classes, any 2xx by default", () => {
    const byDefault = expectedStatusMatcher(undefined);
    expect([200, 204, 299, 199, 301, 404, 500].map(byDefault)).toEqual([true, true, true, false, false, false, false]);
    const listed = expectedStatusMatcher([401, "3xx"]);
    expect([401, 301, 399, 200, 403, -1, 1000].map(listed)).toEqual([true, true, true, false, false, false, false]);
  });
});
