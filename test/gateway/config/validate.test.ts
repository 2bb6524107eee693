/** Config validation: defaults filled in, and every problem reported with its field path. */
import { ConfigError, validateConfig } from "../../../gateway/src/config/validate";
import { gatewayConfigSchema, type GatewayConfig, type GatewayConfigInput } from "../../../gateway/src/config/schema";

const target = (name: string, extra: Record<string, unknown> = {}) => ({ name, baseUrl: `http://127.0.0.1:1/${name}`, ...extra });
const minimal = (): GatewayConfigInput => ({ models: [{ name: "m", targets: [target("a")] }] });

/** The problems a config is refused for (fails the test when it is accepted). */
function problemsOf(raw: unknown): string[] {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("GW_ERR_CONFIG");
    return (err as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

describe("validateConfig", () => {
  it("accepts a minimal config and fills in every default", () => {
    const config = validateConfig(minimal());
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 8080, bodyLimitBytes: 10 * 1024 * 1024, shutdownGraceMs: 30_000 });
    expect(config.upstreamDefaults).toMatchObject({ maxAttempts: 3, timeoutMs: 60_000, deadlineMs: 120_000 });
    expect(config.healthCheck).toMatchObject({ enabled: true, path: "/models", rise: 2, fall: 3 });
    expect(config.passiveHealth).toEqual({ failures: 3, cooldownMs: 5_000, maxCooldownMs: 60_000, maxRetryAfterMs: 60_000 });
    expect(config.models[0]).toMatchObject({ strategy: "round-robin", fallbacks: [] });
    expect(config.models[0].targets[0]).toMatchObject({ weight: 1, headers: {}, mock: { latencyMs: 0, ttftMs: 0, interTokenMs: 0, tokens: 16 } });
  });

  it("strips trailing slashes from base URLs", () => {
    const config = validateConfig({ models: [{ name: "m", targets: [{ name: "a", baseUrl: "https://api.example.com/v1//" }] }] });
    expect(config.models[0].targets[0].baseUrl).toBe("https://api.example.com/v1");
  });

  it("names the field path of a bad nested value", () => {
    const raw = { models: [{ name: "m", targets: [target("a"), target("b", { baseUrl: "ftp://x" })] }] };
    expect(problemsOf(raw)).toEqual(["models[0].targets[1].baseUrl: must be an http(s):// or mock:// URL"]);
  });

  it("names unknown fields (typos) with their path", () => {
    const raw = { models: [{ name: "m", targets: [target("a", { apikey: "x" })] }], server: { prot: 1 } };
    const problems = problemsOf(raw);
    expect(problems).toContain("models[0].targets[0]: unknown field(s) apikey");
    expect(problems).toContain("server: unknown field(s) prot");
  });

  it("reports every problem at once, each with its path", () => {
    const raw = {
      server: { port: 70000 },
      upstreamDefaults: { maxAttempts: 0 },
      models: [{ name: "m", strategy: "random", targets: [target("a", { weight: -1, mock: { ttftMs: "slow" } })] }],
    };
    const problems = problemsOf(raw);
    expect(problems.map((p) => p.split(":")[0])).toEqual(
      expect.arrayContaining(["server.port", "upstreamDefaults.maxAttempts", "models[0].strategy", "models[0].targets[0].weight", "models[0].targets[0].mock.ttftMs"]),
    );
    expect(problems).toHaveLength(5);
  });

  it("requires at least one model and one target", () => {
    expect(problemsOf({})[0]).toMatch(/^models: /);
    expect(problemsOf({ models: [] })[0]).toMatch(/^models: /);
    expect(problemsOf({ models: [{ name: "m", targets: [] }] })[0]).toMatch(/^models\[0\]\.targets: /);
  });

  it("rejects target names that would break metrics and headers", () => {
    expect(problemsOf({ models: [{ name: "m", targets: [{ name: "a b", baseUrl: "mock://x" }] }] })).toEqual(["models[0].targets[0].name: letters, digits, '_', '.' and '-' only"]);
  });

  it("finds cross-field problems: duplicates and fallbacks", () => {
    const raw = {
      models: [
        { name: "m", fallbacks: ["m", "ghost"], targets: [target("a"), target("a")] },
        { name: "m", targets: [target("b")] },
      ],
    };
    expect(problemsOf(raw)).toEqual([
      'models[0].targets[1].name: duplicate target "a"',
      'models[1].name: duplicate model "m"',
      "models[0].fallbacks[0]: a model cannot fall back to itself",
      'models[0].fallbacks[1]: unknown model "ghost"',
    ]);
  });

  it("refuses a headers timeout longer than the request timeout (Node would refuse to listen)", () => {
    expect(problemsOf({ ...minimal(), server: { requestTimeoutMs: 5_000 } })).toEqual(["server.headersTimeoutMs: must not exceed server.requestTimeoutMs (5000)"]);
    expect(validateConfig({ ...minimal(), server: { requestTimeoutMs: 5_000, headersTimeoutMs: 5_000 } }).server.requestTimeoutMs).toBe(5_000);
  });

  it("accepts fallbacks that name other models", () => {
    const config = validateConfig({ models: [{ name: "m", fallbacks: ["n"], targets: [target("a")] }, { name: "n", targets: [target("a")] }] });
    expect(config.models[0].fallbacks).toEqual(["n"]);
  });

  it("puts the problem list in the error message", () => {
    expect(() => validateConfig({ models: [{ name: "m", targets: [target("a", { weight: 0 })] }] })).toThrow(/invalid gateway config:\n {2}- models\[0\]\.targets\[0\]\.weight: /);
  });
});

describe("the exported schema", () => {
  it("is a validator and a type that infra can build configs with", () => {
    const input: GatewayConfigInput = { server: { port: 0 }, models: [{ name: "m", strategy: "latency", targets: [{ name: "a", baseUrl: "mock://a" }] }] };
    const parsed = gatewayConfigSchema.safeParse(input);
    expect(parsed.success).toBe(true);
    const config: GatewayConfig = parsed.success ? parsed.data : validateConfig(input);
    expect(config.models[0].targets[0].weight).toBe(1);
    expect(gatewayConfigSchema.safeParse({ models: "nope" }).success).toBe(false);
  });
});
