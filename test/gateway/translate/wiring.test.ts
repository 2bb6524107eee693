/**
 * The translation layer's wiring, over HTTP: the `provider` field, provider credentials and
 * paths, targets that cannot serve a route skipped (and a clear 400 when none can), Anthropic's
 * default health probe, and errors in the route's own dialect.
 */
import { chat, json, postJson } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { validateConfig } from "../../../gateway/src/config/validate";
import { Router } from "../../../gateway/src/routing/router";
import { Dispatchers } from "../../../gateway/src/upstream/dispatchers";
import { probe } from "../../../gateway/src/upstream/health-checker";
import { resolveProbeSpec } from "../../../gateway/src/upstream/health-probe-spec";
import { prepareTarget } from "../../../gateway/src/upstream/prepared-target";
import { pairFor, routesServedBy } from "../../../gateway/src/translate/registry";
import { providerFor } from "../../../gateway/src/providers";
import { routeProblems } from "../../../gateway/src/config/route-check";

describe("provider field", () => {
  it("defaults to openai and accepts anthropic; anything else fails at load", () => {
    const config = validateConfig({ models: [{ name: "m", targets: [{ name: "a", baseUrl: "mock://a" }, { name: "b", baseUrl: "mock://b", provider: "anthropic" }] }] });
    expect(config.models[0].targets.map((t) => t.provider)).toEqual(["openai", "anthropic"]);
    expect(() => validateConfig({ models: [{ name: "m", targets: [{ name: "a", baseUrl: "mock://a", provider: "bedrock" }] }] })).toThrow(/models\[0\]\.targets\[0\]\.provider/);
  });

  it("has a pair for every route a provider serves, and none for the others", () => {
    expect(pairFor("chat.completions", providerFor("openai"))?.name).toBe("openai-to-openai");
    expect(pairFor("embeddings", providerFor("anthropic"))).toBeUndefined();
    expect(routesServedBy(providerFor("openai"))).toEqual(expect.arrayContaining(["chat.completions", "completions", "embeddings", "images.generations"]));
  });
});

describe("targets of another provider, over HTTP", () => {
  let openai: MockUpstream;
  let anthropic: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    openai = await MockUpstream.start("openai-up");
    anthropic = await MockUpstream.start("anthropic-up");
    gw = await startTestGateway({
      models: [
        {
          name: "mixed",
          targets: [
            { name: "claude", baseUrl: `http://127.0.0.1:${anthropic.port}`, provider: "anthropic", apiKey: "sk-ant-wiring-key" },
            { name: "compat", baseUrl: openai.baseUrl, apiKey: "sk-openai-wiring-key" },
          ],
        },
        { name: "claude-only", targets: [{ name: "claude", baseUrl: `http://127.0.0.1:${anthropic.port}`, provider: "anthropic", apiKey: "sk-ant-wiring-key" }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await openai.stop();
    await anthropic.stop();
  });

  it("skips a target that cannot serve the route, without counting an attempt", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await postJson(gw.url, "/v1/embeddings", { model: "mixed", input: "hello" });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gateway-target")).toBe("compat");
      expect(res.headers.get("x-gateway-attempts")).toBe("1");
      await res.arrayBuffer();
    }
    expect(anthropic.completions).toHaveLength(0);
    expect(openai.completions.at(-1)!.headers.authorization).toBe("Bearer sk-openai-wiring-key");
  });

  it("refuses a route no target of the model can serve with a 400 in the route's dialect", async () => {
    const res = await postJson(gw.url, "/v1/embeddings", { model: "claude-only", input: "hello" });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_request", param: "model" });
    expect(body.error.message).toMatch(/claude-only.*embeddings/);
    expect(anthropic.completions).toHaveLength(0);
  });

  it("answers bad input on /v1/messages in Anthropic's error shape", async () => {
    const bad = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.any(String) } });
    const unknown = await postJson(gw.url, "/v1/messages", { model: "nope", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toEqual({ type: "error", error: { type: "not_found_error", message: expect.stringContaining("nope") } });
    const get = await fetch(`${gw.url}/v1/messages`);
    expect(get.status).toBe(405);
    expect((await json(get)).type).toBe("error");
  });

  it("passes /v1/messages through to an Anthropic target: path, credentials, version, betas, rename, usage", async () => {
    const message = { id: "msg_1", type: "message", role: "assistant", model: "claude-x", content: [{ type: "text", text: "hello there" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 5, output_tokens: 3, cache_creation_input_tokens: 7, cache_read_input_tokens: 11 } };
    anthropic.behavior = { kind: "status", status: 200, body: JSON.stringify(message) };
    const sent = { model: "claude-only", max_tokens: 64, system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }], messages: [{ role: "user", content: "hi" }] };
    const res = await postJson(gw.url, "/v1/messages", sent, { "anthropic-version": "2023-06-01", "anthropic-beta": "prompt-caching-2024-07-31", "x-api-key": "client-key-never-forwarded" });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(message);
    const seen = anthropic.completions.at(-1)!;
    expect([seen.path, seen.headers["x-api-key"], seen.headers["anthropic-version"], seen.headers["anthropic-beta"], seen.headers.authorization]).toEqual(["/v1/messages", "sk-ant-wiring-key", "2023-06-01", "prompt-caching-2024-07-31", undefined]);
    expect(JSON.parse(seen.body)).toEqual(sent);
    const line = gw.logs().filter((l) => l.msg === "request" && l.route === "messages").at(-1)!;
    expect([line.promptTokens, line.completionTokens, line.status]).toEqual([23, 3, 200]);
  });

  it("keeps OpenAI's error shape on OpenAI routes", async () => {
    const res = await chat(gw.url, { model: "nope", messages: [] });
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("model_not_found");
  });
});

describe("unsupported (route, provider) pairs at config load", () => {
  const config = validateConfig({
    models: [
      { name: "embed", targets: [{ name: "e", baseUrl: "mock://e" }] },
      { name: "claude", fallbacks: ["embed"], targets: [{ name: "c", baseUrl: "mock://c", provider: "anthropic" }] },
    ],
  });

  it("accepts every pairing the translator table serves today", () => {
    expect(routeProblems(config)).toEqual([]);
  });

  it("refuses a provider no route translates to, and a fallback serving none of its model's routes", () => {
    const table = { openai: ["embeddings"], anthropic: ["messages"] } as const;
    expect(routeProblems(config, (provider) => table[provider])).toEqual(['models[1].fallbacks[0]: "embed" serves none of the routes "claude" serves (messages)']);
    expect(routeProblems(config, (provider) => (provider === "anthropic" ? [] : ["chat.completions"]))).toEqual(['models[1].targets[0].provider: no route can be translated to "anthropic"']);
  });
});

describe("Anthropic's default health probe", () => {
  it("is GET /v1/models with x-api-key and anthropic-version, whatever healthCheck.path says for OpenAI targets", async () => {
    const upstream = await MockUpstream.start("probe");
    const config = validateConfig({
      healthCheck: { path: "/models" },
      models: [{ name: "m", targets: [{ name: "claude", baseUrl: `http://127.0.0.1:${upstream.port}`, provider: "anthropic", apiKey: "sk-ant-probe-key" }] }],
    });
    const dispatchers = new Dispatchers(config.upstreamDefaults);
    try {
      const [target] = new Router(config).allTargets.map((state) => prepareTarget(state, dispatchers, config.upstreamDefaults));
      const spec = resolveProbeSpec(target.state.config, config.healthCheck);
      expect(spec.path).toBe("/v1/models");
      expect((await probe(target, spec)).passed).toBe(true);
      const seen = upstream.requests.at(-1)!;
      expect([seen.method, seen.path, seen.headers["x-api-key"], seen.headers["anthropic-version"], seen.headers.authorization]).toEqual(["GET", "/v1/models", "sk-ant-probe-key", "2023-06-01", undefined]);
      upstream.healthStatus = 401;
      expect(await probe(target, spec)).toMatchObject({ passed: false, reason: "status_401" });
    } finally {
      await dispatchers.destroy();
      await upstream.stop();
    }
  });
});
