/** The embedded default config behind `npm start`: mock models with no keys, real upstreams when keys are set. */
import { json } from "../../helpers/http-client";
import { defaultConfig } from "../../../gateway/src/config/default-config";
import { validateConfig } from "../../../gateway/src/config/validate";
import { startGateway } from "../../../gateway/src/gateway";
import { Writable } from "node:stream";
import { MockUpstream } from "../../helpers/mock-upstream";

const MOCK_MODELS = ["mock-gpt", "mock-mini", "mock-embedding", "mock-claude"];

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

  it("puts /metrics and /admin on a loopback listener beside the public port, moved by ADMIN_HOST and ADMIN_PORT", () => {
    expect(validateConfig(defaultConfig({})).server).toMatchObject({ port: 8080, adminHost: "127.0.0.1", adminPort: 8081 });
    expect(validateConfig(defaultConfig({ HOST: "0.0.0.0", PORT: "9000" })).server).toMatchObject({ host: "0.0.0.0", adminHost: "127.0.0.1", adminPort: 9001 });
    // PORT=0 (tests, several processes): a free port for the admin listener too, never a fixed one that collides.
    expect(validateConfig(defaultConfig({ PORT: "0" })).server).toMatchObject({ port: 0, adminPort: 0 });
    expect(validateConfig(defaultConfig({ ADMIN_HOST: "0.0.0.0", ADMIN_PORT: "9464" })).server).toMatchObject({ adminHost: "0.0.0.0", adminPort: 9464 });
    expect(() => validateConfig(defaultConfig({ PORT: "9000", ADMIN_PORT: "9000" }))).toThrow(/server\.adminPort: must differ from server\.port/);
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

  it("never exposes the provider key it injects: not in answers (an upstream error quoting it, a 5xx), not in logs", async () => {
    const KEY = "sk-test-openai-injected-7f3a";
    // The provider's target, pointed at a local upstream that quotes the key it receives.
    const upstream = await MockUpstream.start("openai", (request) =>
      request.json?.model === "gpt-4o-mini"
        ? { kind: "status", status: 500 }
        : { kind: "status", status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${String(request.headers.authorization).slice(7)}`, type: "invalid_request_error", code: "invalid_api_key" } }) },
    );
    const input = defaultConfig({ OPENAI_API_KEY: KEY });
    for (const model of input.models) for (const target of model.targets) if (target.name === "openai") target.baseUrl = upstream.baseUrl;
    const lines: string[] = [];
    const config = validateConfig({ ...input, server: { host: "127.0.0.1", port: 0 }, healthCheck: { enabled: false }, logging: { level: "debug" } });
    const gateway = await startGateway(config, { logDestination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString("utf8")), done()) }) });
    try {
      const answers: string[] = [];
      for (const model of ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]) {
        const path = model.startsWith("text-") ? "/v1/embeddings" : "/v1/chat/completions";
        const res = await fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: "x", messages: [{ role: "user", content: "hi" }] }) });
        answers.push(`${res.status} ${[...res.headers].join(" ")} ${await res.text()}`);
      }
      expect(answers.map((a) => Number(a.slice(0, 3)))).toEqual([502, 502, 502]);
      // The key was in play: the upstream received it.
      expect(upstream.completions.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      expect(upstream.completions.length).toBeGreaterThanOrEqual(3);
      await gateway.shutdown(0);
      expect({ inAnswers: answers.some((a) => a.includes(KEY)), inLogs: lines.join("").includes(KEY) }).toEqual({ inAnswers: false, inLogs: false });
    } finally {
      await gateway.shutdown(0).catch(() => undefined);
      await upstream.stop();
    }
  });
});
