/** The gateway's own endpoints: /v1/models (OpenAI list format), /v1/models/{id}, /readyz. */
import { rawRequest, json } from "../../helpers/http-client";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const mock = (name: string) => ({ name, baseUrl: `mock://${name}` });

describe("model list and readiness", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      models: [
        { name: "gpt-4o", targets: [{ ...mock("a"), model: "upstream-name" }] },
        { name: "org/model:v1", targets: [mock("b")] },
        { name: "text-embedding-3-small", targets: [mock("c")] },
      ],
    });
  });
  afterAll(() => gw.close());

  it("lists the configured (client-facing) model names in OpenAI's list format", async () => {
    const res = await fetch(`${gw.url}/v1/models`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const body = await json(res);
    expect(body.object).toBe("list");
    expect(body.data).toEqual(["gpt-4o", "org/model:v1", "text-embedding-3-small"].map((id) => ({ id, object: "model", created: expect.any(Number), owned_by: "ai-gateway" })));
    expect(Number.isInteger(body.data[0].created)).toBe(true);
  });

  it("answers /v1/models/{id}, decoding the id", async () => {
    const one = await fetch(`${gw.url}/v1/models/gpt-4o`);
    expect(one.status).toBe(200);
    expect(await json(one)).toEqual({ id: "gpt-4o", object: "model", created: expect.any(Number), owned_by: "ai-gateway" });
    const encoded = await rawRequest(gw.url, { path: "/v1/models/org%2Fmodel:v1" });
    // An encoded slash never matches (see server.ts); the raw one does, since the id is the rest of the path.
    expect(encoded.status).toBe(404);
    const raw = await rawRequest(gw.url, { path: "/v1/models/org/model:v1" });
    expect(raw.status).toBe(200);
    expect(JSON.parse(raw.body).id).toBe("org/model:v1");
  });

  it("404s an unknown model id with model_not_found, and never lists upstream names", async () => {
    const res = await fetch(`${gw.url}/v1/models/upstream-name`);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: { message: expect.stringContaining("upstream-name"), type: "invalid_request_error", param: "model", code: "model_not_found" } });
  });

  it("405s a POST to /v1/models", async () => {
    const res = await fetch(`${gw.url}/v1/models`, { method: "POST" });
    expect(res.status).toBe(405);
    expect((await json(res)).error.code).toBe("method_not_allowed");
  });

  it("reports ready, then draining once shutdown starts", async () => {
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    gw.gateway.runtime.draining = true;
    try {
      const res = await rawRequest(gw.url, { path: "/readyz" });
      expect([res.status, JSON.parse(res.body)]).toEqual([503, { status: "draining" }]);
      expect((await rawRequest(gw.url, { path: "/healthz" })).status).toBe(200);
    } finally {
      gw.gateway.runtime.draining = false;
    }
  });
});
