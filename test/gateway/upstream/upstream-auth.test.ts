/**
 * Upstream credential failures are the gateway's problem (issue 12, item 6): an upstream 401/403
 * fails over to the next target before the first byte, takes its target out of rotation (logged
 * with name and status, counted), and with nothing left the client gets 502 upstream_auth_error
 * (the SDK's APIError, not AuthenticationError), never the upstream's body.
 */
import OpenAI, { APIError, AuthenticationError, PermissionDeniedError } from "openai";
import { chat, json, metricValue, readStream, scrape } from "../../helpers/http-client";
import { serverFixture } from "../../helpers/fixture";
import { eventually } from "../../helpers/gateway-harness";
import type { Behavior, RecordedRequest } from "../../helpers/mock-upstream";

const GOOD_KEY = "sk-upstream-good-0123456789";
const WRONG_KEY = "sk-upstream-wrong-9876543210";

/** An OpenAI-like upstream that accepts only GOOD_KEY and, like OpenAI, quotes part of a wrong key back. */
function keyChecking(status = 401): (request: RecordedRequest) => Behavior {
  return (request) => {
    const sent = String(request.headers.authorization ?? "").slice(7);
    if (sent === GOOD_KEY) return { kind: "ok" };
    const message = `Incorrect API key provided: ${sent.slice(0, 10)}***${sent.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    return { kind: "status", status, body: JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code: "invalid_api_key" } }), headers: { "x-request-id": "req_upstream_auth_1" } };
  };
}

describe("upstream credential failures", () => {
  const servers = serverFixture();

  it("fails over from a target with a wrong key to a good one, and takes the wrong one out of rotation", async () => {
    const wrong = await servers.upstream("wrong", keyChecking());
    const good = await servers.upstream("good", keyChecking());
    const gw = await servers.gateway([
      { name: "m", targets: [{ name: "wrong-key", baseUrl: wrong.baseUrl, apiKey: WRONG_KEY }, { name: "good-key", baseUrl: good.baseUrl, apiKey: GOOD_KEY }] },
    ]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
    const first = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(first.data.object).toBe("chat.completion");
    expect([first.response.headers.get("x-gateway-target"), first.response.headers.get("x-gateway-attempts")]).toEqual(["good-key", "2"]);
    // Held out now: the next requests (stream included) go straight to the good target.
    for (let i = 0; i < 3; i++) {
      const next = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).withResponse();
      expect(next.response.headers.get("x-gateway-attempts")).toBe("1");
    }
    const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
    for await (const chunk of stream) expect(chunk.object).toBe("chat.completion.chunk");
    expect(wrong.completions).toHaveLength(1);

    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_upstream_auth_failures_total", { model: "m", target: "wrong-key", status: "401" })).toBe(1);
    expect(metricValue(metrics, "aigw_upstream_retries_total", { target: "wrong-key", reason: "upstream_auth" })).toBe(1);
    expect(metricValue(metrics, "aigw_target_up", { model: "m", target: "wrong-key" })).toBe(0);
    expect(metricValue(metrics, "aigw_target_health_info", { model: "m", target: "wrong-key", state: "misconfigured", reason: "upstream_auth_401" })).toBe(1);
    expect(metricValue(metrics, "aigw_target_health_info", { model: "m", target: "good-key", state: "up", reason: "ok" })).toBe(1);
    const warning = gw.logs().find((line) => line.msg === "target misconfigured: the upstream refused its credentials");
    expect(warning).toMatchObject({ model: "m", target: "wrong-key", status: 401, upstreamRequestId: "req_upstream_auth_1", fresh: true });
    expect(gw.rawLogs()).not.toContain(WRONG_KEY.slice(0, 10));
  });

  it.each([401, 403])("answers 502 upstream_auth_error (an APIError, not the SDK's auth errors) for an upstream %i with no good target", async (status) => {
    const wrong = await servers.upstream("wrong", keyChecking(status));
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "wrong-key", baseUrl: wrong.baseUrl, apiKey: WRONG_KEY }] }]);
    // The SDK's default retries: x-should-retry: false stops them, since a refused key stays refused.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client" });
    const error = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(AuthenticationError);
    expect(error).not.toBeInstanceOf(PermissionDeniedError);
    const apiError = error as APIError;
    expect([apiError.status, apiError.code, apiError.type]).toEqual([502, "upstream_auth_error", "server_error"]);
    expect(apiError.message).toContain("operator");
    expect(apiError.message).not.toContain(WRONG_KEY.slice(0, 10));
    expect(apiError.headers?.get("x-upstream-request-id")).toBe("req_upstream_auth_1");
    expect(wrong.completions).toHaveLength(1);

    // While held out, nothing is tried and the answer says why (not a bare 503 no_healthy_upstream).
    const again = await chat(gw.url, { model: "m" });
    const body = await json(again);
    expect([again.status, body.error.code, again.headers.get("x-gateway-attempts"), again.headers.get("x-should-retry")]).toEqual([502, "upstream_auth_error", "0", "false"]);
    expect(JSON.stringify(body)).not.toContain("Incorrect API key");
    expect(wrong.completions).toHaveLength(1);
  });

  it("answers a stream's 401 the same way, before any byte", async () => {
    const wrong = await servers.upstream("wrong", keyChecking());
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "wrong-key", baseUrl: wrong.baseUrl, apiKey: WRONG_KEY }] }]);
    const res = await chat(gw.url, { model: "m", stream: true });
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(JSON.parse(await readStream(res)).error.code).toBe("upstream_auth_error");
  });

  it("tries a held-out target again after its cooldown, and serves from it once its key works", async () => {
    let keyFixed = false;
    const flaky = await servers.upstream("flaky", (request) => (keyFixed ? { kind: "ok" } : keyChecking()(request)));
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: flaky.baseUrl, apiKey: WRONG_KEY }] }], { passiveHealth: { cooldownMs: 300, maxCooldownMs: 300 } });
    expect((await chat(gw.url, { model: "m" })).status).toBe(502);
    keyFixed = true;
    expect((await chat(gw.url, { model: "m" })).headers.get("x-gateway-attempts")).toBe("0");
    await eventually(async () => (await chat(gw.url, { model: "m" })).status === 200, 5_000, 50);
    expect(metricValue(await scrape(gw.url), "aigw_target_up", { target: "a" })).toBe(1);
  });

  it("does not let a client's own OpenAI-Project take a target out for everyone", async () => {
    const scoped = await servers.upstream("scoped", (request) =>
      request.headers["openai-project"] === "proj_wrong"
        ? { kind: "status", status: 401, body: JSON.stringify({ error: { message: "OpenAI-Project header should match project for API key", type: "invalid_request_error", code: "invalid_project" } }) }
        : { kind: "ok" },
    );
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: scoped.baseUrl, apiKey: GOOD_KEY, forwardHeaders: ["openai-project"] }] }]);
    const refused = await chat(gw.url, { model: "m" }, { "openai-project": "proj_wrong" });
    const body = await json(refused);
    expect([refused.status, body.error.code]).toEqual([502, "upstream_auth_error"]);
    expect(body.error.message).toContain("OpenAI-Project");
    // Everyone else is still served by the same target.
    const served = await chat(gw.url, { model: "m" });
    expect([served.status, served.headers.get("x-gateway-target")]).toEqual([200, "a"]);
    const metrics = await scrape(gw.url);
    expect(metricValue(metrics, "aigw_target_up", { target: "a" })).toBe(1);
    expect(metricValue(metrics, "aigw_upstream_auth_failures_total", { target: "a" })).toBe(1);
    expect(gw.logs().some((line) => line.msg === "upstream refused the client's organization or project" && line.clientScoped === true)).toBe(true);
  });
});
