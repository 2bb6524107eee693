/** What the upstream receives: the target's key (never the client's), the renamed model, the request id. */
import { chat, postJson, json } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

describe("the request the upstream sees", () => {
  let keyed: MockUpstream;
  let open: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    keyed = await MockUpstream.start("keyed");
    open = await MockUpstream.start("open");
    gw = await startTestGateway({
      models: [
        { name: "client-name", targets: [{ name: "k", baseUrl: keyed.baseUrl, apiKey: "sk-target-key", model: "provider-name", headers: { "OpenAI-Organization": "org-1" } }] },
        { name: "plain", targets: [{ name: "o", baseUrl: open.baseUrl }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([keyed.stop(), open.stop()]);
  });

  it("injects the target's key and headers, and never forwards the client's credentials", async () => {
    const res = await chat(gw.url, { model: "client-name" }, { authorization: "Bearer client-secret", "x-api-key": "client-secret", cookie: "session=client-secret", "openai-organization": "client-org" });
    expect(res.status).toBe(200);
    const seen = keyed.completions.at(-1)!;
    expect(seen.headers.authorization).toBe("Bearer sk-target-key");
    expect(seen.headers["openai-organization"]).toBe("org-1");
    expect(seen.headers["x-api-key"]).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain("client-secret");
  });

  it("sends no Authorization at all to a target without a key", async () => {
    await chat(gw.url, { model: "plain" }, { authorization: "Bearer client-secret" });
    expect(open.completions.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("renames the model upstream and keeps the rest of the body", async () => {
    const res = await chat(gw.url, { model: "client-name", temperature: 0.2, messages: [{ role: "user", content: "é ✓" }], tools: [] });
    expect(res.status).toBe(200);
    const seen = keyed.completions.at(-1)!;
    expect(seen.path).toBe("/v1/chat/completions");
    expect(seen.json).toEqual({ model: "provider-name", temperature: 0.2, messages: [{ role: "user", content: "é ✓" }], tools: [] });
    // The answer comes back as the upstream wrote it.
    expect((await json(res)).model).toBe("provider-name");
  });

  it("forwards the client's body byte for byte when nothing needs changing", async () => {
    const raw = '{"model":"plain",  "messages":[{"role":"user","content":"hi"}], "n":1}';
    await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    expect(open.completions.at(-1)!.body).toBe(raw);
  });

  it("maps each route to the upstream path under the base URL", async () => {
    await postJson(gw.url, "/v1/embeddings", { model: "plain", input: "x" });
    await postJson(gw.url, "/v1/completions", { model: "plain", prompt: "x" });
    await postJson(gw.url, "/v1/images/generations", { model: "plain", prompt: "x" });
    expect(open.completions.slice(-3).map((r) => r.path)).toEqual(["/v1/embeddings", "/v1/completions", "/v1/images/generations"]);
  });

  it("passes the request id upstream: the client's, or a generated one", async () => {
    const res = await chat(gw.url, { model: "plain" }, { "x-request-id": "trace-abc.123" });
    expect(res.headers.get("x-request-id")).toBe("trace-abc.123");
    expect(open.completions.at(-1)!.headers["x-request-id"]).toBe("trace-abc.123");
    const generated = await chat(gw.url, { model: "plain" });
    const id = generated.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(open.completions.at(-1)!.headers["x-request-id"]).toBe(id);
  });
});
