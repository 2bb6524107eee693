/** The HTTP surface: every route answers, anything else is an OpenAI-style 404, odd paths never match. */
import { rawRequest, chat, postJson, HI, json } from "../helpers/http-client";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";

const mock = (name: string) => ({ name, baseUrl: `mock://${name}`, mock: { tokens: 4 } });

function expectOpenAiError(body: unknown, code: string): void {
  expect(body).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: null, code } });
}

describe("HTTP surface", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ models: [{ name: "m", targets: [mock("a")] }, { name: "embed", targets: [mock("e")] }] });
  });
  afterAll(() => gw.close());

  it("POST /v1/chat/completions", async () => {
    const res = await chat(gw.url, { model: "m" });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ object: "chat.completion", model: "m", choices: [{ index: 0, message: { role: "assistant" }, finish_reason: "stop" }] });
    expect(body.usage.completion_tokens).toBe(4);
  });

  it("POST /v1/completions", async () => {
    const res = await postJson(gw.url, "/v1/completions", { model: "m", prompt: "Say this" });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ object: "text_completion", choices: [{ text: expect.any(String) }] });
  });

  it("POST /v1/embeddings", async () => {
    const res = await postJson(gw.url, "/v1/embeddings", { model: "embed", input: ["a", "b"], dimensions: 16 });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.object).toBe("list");
    expect(body.data.map((d: { index: number; embedding: number[] }) => [d.index, d.embedding.length])).toEqual([[0, 16], [1, 16]]);
  });

  it("POST /v1/images/generations", async () => {
    const res = await postJson(gw.url, "/v1/images/generations", { model: "m", prompt: "a cat", n: 2 });
    expect(res.status).toBe(200);
    expect((await json(res)).data).toHaveLength(2);
  });

  it("GET /healthz, /readyz and /metrics", async () => {
    const health = await fetch(`${gw.url}/healthz`);
    expect([health.status, await json(health)]).toEqual([200, { status: "ok" }]);
    const ready = await fetch(`${gw.url}/readyz`);
    expect([ready.status, await json(ready)]).toEqual([200, { status: "ready" }]);
    const metrics = await fetch(`${gw.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metrics.text()).toContain("# TYPE aigw_requests_total counter");
  });

  it("answers the wrong method on a proxied route with an OpenAI-style 405", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`);
    expect(res.status).toBe(405);
    expectOpenAiError(await json(res), "method_not_allowed");
  });

  it.each(["/", "/v1", "/v1/", "/v2/chat/completions", "/v1/chat/completions/", "/v1/chat", "/admin", "/admin/keys", "/v1/files", "/V1/chat/completions", "/healthz/x"])(
    "404s %s in OpenAI's error format",
    async (path) => {
      for (const method of ["GET", "POST"]) {
        const res = await rawRequest(gw.url, { method, path, headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: HI }) });
        expect(res.status).toBe(404);
        expect(res.headers["content-type"]).toBe("application/json");
        expectOpenAiError(JSON.parse(res.body), "not_found");
      }
    },
  );

  it.each(["/v1/../admin", "/v1/../v1/chat/completions", "/v1/./chat/completions", "//v1/chat/completions", "/v1/chat%2Fcompletions", "/v1/chat%2fcompletions", "/v1%2Fchat%2Fcompletions", "/v1/chat/completions%00", "/v1/chat/completions;x", "/v1/models/%2F..%2Fadmin"])(
    "never normalises the odd path %s into a route",
    async (path) => {
      const res = await rawRequest(gw.url, { method: "POST", path, headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: HI }) });
      expect(res.status).toBe(404);
      expectOpenAiError(JSON.parse(res.body), "not_found");
    },
  );

  it("carries X-Request-Id on a 404 too", async () => {
    const kept = await rawRequest(gw.url, { path: "/nowhere", headers: { "x-request-id": "lost-1" } });
    expect([kept.status, kept.headers["x-request-id"]]).toEqual([404, "lost-1"]);
    expect((await rawRequest(gw.url, { path: "/nowhere" })).headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("ignores the query string when matching", async () => {
    const res = await rawRequest(gw.url, { method: "POST", path: "/v1/chat/completions?api-version=1", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: HI }) });
    expect(res.status).toBe(200);
  });

  it("keeps serving after a malformed request line", async () => {
    const res = await rawRequest(gw.url, { path: "/healthz", headers: { "x-bad": "ok" } });
    expect(res.status).toBe(200);
    const { connect } = await import("node:net");
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(gw.url).port), "127.0.0.1", () => socket.write("GARBAGE\r\n\r\n"));
      let text = "";
      socket.on("data", (d) => (text += d));
      socket.on("close", () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
