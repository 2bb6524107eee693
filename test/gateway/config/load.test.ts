/** Loading the config: YAML text, `--config FILE`, GATEWAY_CONFIG, else the embedded default. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig, loadConfigFile, parseConfigText } from "../../../gateway/src/config/load";
import { ConfigError } from "../../../gateway/src/config/validate";

const YAML = `
server:
  port: 9000
models:
  - name: gpt
    strategy: weighted
    targets:
      - name: primary
        baseUrl: https://api.example.com/v1
        apiKey: \${PRIMARY_KEY}
        weight: 3
      - name: local
        baseUrl: mock://local
`;

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

describe("parseConfigText", () => {
  it("parses YAML, interpolates the environment and validates", () => {
    const config = parseConfigText(YAML, { PRIMARY_KEY: "sk-primary" });
    expect(config.server.port).toBe(9000);
    expect(config.models[0].strategy).toBe("weighted");
    expect(config.models[0].targets.map((t) => [t.name, t.apiKey, t.weight])).toEqual([["primary", "sk-primary", 3], ["local", undefined, 1]]);
  });

  it("takes the port from the environment (one config file for several processes)", () => {
    const yaml = YAML.replace("port: 9000", "port: ${PORT:-8080}");
    expect(parseConfigText(yaml, { PRIMARY_KEY: "k", PORT: "8081" }).server.port).toBe(8081);
    expect(parseConfigText(yaml, { PRIMARY_KEY: "k" }).server.port).toBe(8080);
    expect(problems(() => parseConfigText(yaml, { PRIMARY_KEY: "k", PORT: "http" }))).toEqual(["server.port: must be a port number"]);
    expect(problems(() => parseConfigText(yaml, { PRIMARY_KEY: "k", PORT: "70000" }))).toEqual(["server.port: Number must be less than or equal to 65535"]);
  });

  it("names the field whose environment variable is missing", () => {
    expect(problems(() => parseConfigText(YAML, {}))).toEqual(["models[0].targets[0].apiKey: environment variable PRIMARY_KEY is not set"]);
  });

  it("reports YAML syntax errors as config errors", () => {
    expect(problems(() => parseConfigText("models: [unclosed", {}))[0]).toMatch(/^YAML: /);
  });

  it("reports schema errors with their field path", () => {
    expect(problems(() => parseConfigText("models:\n  - name: m\n    targets:\n      - name: a\n        baseUrl: nope\n", {}))).toEqual([
      "models[0].targets[0].baseUrl: must be an http(s):// or mock:// URL",
    ]);
  });
});

describe("loadConfig", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "aigw-load-"));
    file = join(dir, "gateway.yaml");
    writeFileSync(file, YAML);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the file named by --config", () => {
    expect(loadConfig(["--config", file], { PRIMARY_KEY: "k" }).models[0].name).toBe("gpt");
  });

  it("reads the file named by GATEWAY_CONFIG", () => {
    expect(loadConfig([], { GATEWAY_CONFIG: file, PRIMARY_KEY: "k" }).models[0].name).toBe("gpt");
  });

  it("prefers --config over GATEWAY_CONFIG", () => {
    expect(loadConfig(["--config", file], { GATEWAY_CONFIG: join(dir, "absent.yaml"), PRIMARY_KEY: "k" }).server.port).toBe(9000);
  });

  it("falls back to the embedded default config with neither", () => {
    expect(loadConfig([], {}).models.map((m) => m.name)).toEqual(["mock-gpt", "mock-mini", "mock-embedding", "mock-claude"]);
  });

  it("refuses --config without a path, and unreadable files", () => {
    expect(problems(() => loadConfig(["--config"], {}))).toEqual(["--config needs a file path"]);
    expect(problems(() => loadConfigFile(join(dir, "absent.yaml"), {}))).toEqual([`cannot read ${join(dir, "absent.yaml")}: ENOENT`]);
  });
});

describe("examples/gateway.yaml", () => {
  const EXAMPLE = resolve(__dirname, "../../../examples/gateway.yaml");
  const env = { OPENAI_API_KEY: "sk-o", RESELLER_API_KEY: "sk-r", DEEPSEEK_API_KEY: "sk-d", GEMINI_API_KEY: "sk-g", GATEWAY_ADMIN_KEY: "admin-key-0123456789", BATCH_JOBS_KEY: "batch-key-123" };

  it("validates with its variables set, defaults applied", () => {
    const config = loadConfigFile(EXAMPLE, env);
    expect(config.models.map((m) => m.name)).toContain("gpt-4o");
    const reseller = config.models[0].targets[1];
    expect([reseller.baseUrl, reseller.apiKey]).toEqual(["https://reseller.example.com/v1", "sk-r"]);
    expect(config.redis).toMatchObject({ url: "redis://127.0.0.1:6379", password: "" });
  });

  it("names every field whose secret is missing", () => {
    const missing = problems(() => loadConfigFile(EXAMPLE, { ...env, OPENAI_API_KEY: undefined }));
    expect(missing).toEqual([
      "models[0].targets[0].apiKey: environment variable OPENAI_API_KEY is not set",
      "models[1].targets[0].apiKey: environment variable OPENAI_API_KEY is not set",
      "models[4].targets[0].apiKey: environment variable OPENAI_API_KEY is not set",
    ]);
  });
});
