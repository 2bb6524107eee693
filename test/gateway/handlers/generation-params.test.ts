/**
 * max_tokens, max_completion_tokens and n must be whole numbers >= 1, as OpenAI requires: a
 * fractional, string or negative value is a 400 `invalid_request` naming the field, and never
 * reaches the upstream (it used to reserve zero completion tokens and go through).
 */
import { serverFixture } from "../../helpers/fixture";
import { postJson } from "../../helpers/http-client";

describe("sizing fields over HTTP", () => {
  const servers = serverFixture();

  async function start() {
    const upstream = await servers.upstream("u", { kind: "ok" });
    await servers.gateway([{ name: "m", targets: [{ name: "u", baseUrl: upstream.baseUrl }] }]);
    return upstream;
  }

  const BAD: [string, unknown][] = [
    ["max_tokens", 1.5],
    ["max_tokens", "100"],
    ["max_tokens", -5],
    ["max_tokens", 0],
    ["max_tokens", 1e300],
    ["max_tokens", [1]],
    ["max_tokens", true],
    ["max_completion_tokens", 0.25],
    ["max_completion_tokens", "9"],
    ["n", 2.5],
    ["n", "2"],
    ["n", 0],
    ["n", -1],
  ];

  it.each(BAD)("%s: %j → 400 invalid_request with param, nothing sent upstream", async (field, value) => {
    const upstream = await start();
    for (const path of ["/v1/chat/completions", "/v1/completions"]) {
      const body = path === "/v1/completions" ? { model: "m", prompt: "hi", [field]: value } : { model: "m", messages: [{ role: "user", content: "hi" }], [field]: value };
      const res = await postJson(servers.gw.url, path, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { message: expect.stringContaining(`'${field}'`), type: "invalid_request_error", param: field, code: "invalid_request" } });
    }
    expect(upstream.completions).toHaveLength(0);
  });

  it("lets whole numbers and null through unchanged", async () => {
    const upstream = await start();
    const body = { model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 5, max_completion_tokens: null, n: 1 };
    const res = await postJson(servers.gw.url, "/v1/chat/completions", body);
    expect(res.status).toBe(200);
    expect(upstream.completions[0].body).toBe(JSON.stringify(body));
  });
});
