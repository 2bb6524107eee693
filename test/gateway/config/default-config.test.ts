/** The embedded default config behind `npm start`: mock models with no keys, real upstreams when keys are set. */
import { json } from "../../helpers/http-client";
import { defaultConfig } from "../../../gateway/src/config/default-config";
import { validateConfig } from "../../../gateway/src/config/validate";
import { startGateway } from "../../../gateway/src/gateway";
import { Writable } from "node:stream";

const MOCK_MODELS = ["mock-gpt", "mock-mini", "mock-embedding"];

describe("defaultConfig", () => {
  it("validates with an empty environment and serves only mock:// targets, without keys", () => {
    const config = validateConfig(defaultConfig({}));
    expect(config.models.map((m) => m.name)).toEqual(MOCK_MODELS);
    for (const target of config.models.flatMap((m) => m.targets)) {
      expect(target.baseUrl).toMatch(/^mock:\/\//);
      expect(target.apiKey).toBeUndefined();
    }
    expect(config.models[0].fallbacks).toEqual(["mock-mini"]);
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8080 });
  });

  it("takes HOST and PORT from the environment", () => {
    expect(validateConfig(defaultConfig({ HOST: "0.0.0.0", PORT: "0" })).server).toMatchObject({ host: "0.0.0.0", port: 0 });
  });

  it("adds OpenAI's models with the key from OPENAI_API_KEY", () => {
    const config = validateConfig(defaultConfig({ OPENAI_API_KEY: "sk-test-openai" }));
    const added = config.models.filter((m) => !MOCK_MODELS.includes(m.name));
    expect(added.map((m) => m.name)).toEqual(["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]);
    for (const model of added) {
      expect(model.targets).toHaveLength(1);
      expect(model.targets[0]).toMatchObject({ name: "openai", baseUrl: "https://api.openai.com/v1", apiKey: "sk-test-openai", model: model.name });
    }
  });

  it("ignores empty keys", () => {
    expect(validateConfig(defaultConfig({ OPENAI_API_KEY: "", DEEPSEEK_API_KEY: "" })).models.map((m) => m.name)).toEqual(MOCK_MODELS);
  });

  it("lists the real models on /v1/models when a key is set (no upstream call is made)", async () => {
    const config = validateConfig({ ...defaultConfig({ OPENAI_API_KEY: "sk-test-openai" }), server: { host: "127.0.0.1", port: 0 }, healthCheck: { enabled: false } });
    const gateway = await startGateway(config, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      const body = await json(await fetch(`${gateway.url}/v1/models`));
      expect(body.data.map((m: { id: string }) => m.id)).toEqual([...MOCK_MODELS, "gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]);
      expect(JSON.stringify(body)).not.toContain("sk-test-openai");
    } finally {
      await gateway.shutdown(0);
    }
  });
});
