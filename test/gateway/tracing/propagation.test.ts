/**
 * Tracing across the hop (issue 12, item 8), over HTTP: W3C traceparent/tracestate and the
 * client's User-Agent reach the upstream (same trace, a new span per attempt), the provider's
 * request id comes back as x-upstream-request-id and in the access log, and only the client
 * headers a target allows are passed on.
 */
import OpenAI from "openai";
import { chat, json } from "../../helpers/http-client";
import { serverFixture } from "../../helpers/fixture";
import { mockChatCompletion } from "../../../gateway/src/upstream/mock-responses";
import { parseTraceparent } from "../../../gateway/src/tracing/trace-context";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const completion = (requestIdHeader: Record<string, string>) => ({ kind: "status" as const, status: 200, body: JSON.stringify(mockChatCompletion({ model: "m" }, 2, "up")), headers: requestIdHeader });

describe("trace context and headers across the hop", () => {
  const servers = serverFixture();

  it("keeps the caller's trace id with a new span id per attempt, and passes tracestate on", async () => {
    const broken = await servers.upstream("broken", { kind: "status", status: 500 });
    const good = await servers.upstream("good", { kind: "ok" });
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "broken", baseUrl: broken.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }]);
    const res = await chat(gw.url, { model: "m" }, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: "vendor=abc" });
    expect([res.status, res.headers.get("x-gateway-attempts")]).toEqual([200, "2"]);
    const sent = [broken.completions[0], good.completions[0]].map((r) => ({ parent: parseTraceparent(r.headers.traceparent), tracestate: r.headers.tracestate }));
    for (const { parent, tracestate } of sent) {
      expect(parent).toMatchObject({ traceId: TRACE, sampled: true });
      expect(parent!.parentSpanId).not.toBe(PARENT);
      expect(tracestate).toBe("vendor=abc");
    }
    expect(sent[0].parent!.parentSpanId).not.toBe(sent[1].parent!.parentSpanId);
    const line = gw.logs().find((l) => l.msg === "request");
    expect(line).toMatchObject({ traceId: TRACE });
  });

  it("starts a trace when the caller sent none or a malformed one (unsampled without tracing), and drops an orphan tracestate", async () => {
    const up = await servers.upstream("up", { kind: "ok" });
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: up.baseUrl }] }]);
    await chat(gw.url, { model: "m" });
    await chat(gw.url, { model: "m" }, { traceparent: "00-nonsense", tracestate: "vendor=abc" });
    const parents = up.completions.map((r) => parseTraceparent(r.headers.traceparent));
    for (const parent of parents) expect(parent).toMatchObject({ sampled: false });
    expect(parents[0]!.traceId).not.toBe(parents[1]!.traceId);
    expect(up.completions[1].headers.tracestate).toBeUndefined();
    const logged = gw.logs().filter((l) => l.msg === "request").map((l) => l.traceId);
    expect(logged).toEqual(parents.map((p) => p!.traceId));
  });

  it("passes the SDK's User-Agent on, unless the target sets its own", async () => {
    const up = await servers.upstream("up", { kind: "ok" });
    const gw = await servers.gateway([
      { name: "m", targets: [{ name: "a", baseUrl: up.baseUrl }] },
      { name: "fixed", targets: [{ name: "a", baseUrl: up.baseUrl, headers: { "User-Agent": "my-gateway/1" } }] },
    ]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    await client.chat.completions.create({ model: "fixed", messages: [{ role: "user", content: "hi" }] });
    expect(up.completions[0].headers["user-agent"]).toMatch(/^OpenAI\/JS /);
    expect(up.completions[1].headers["user-agent"]).toBe("my-gateway/1");
  });

  it.each([
    ["OpenAI", { "x-request-id": "req_abc123" }, "req_abc123"],
    ["Anthropic", { "request-id": "req_011CVx" }, "req_011CVx"],
    ["Azure", { "apim-request-id": "6b5c0a2e-aaaa" }, "6b5c0a2e-aaaa"],
    ["an unsafe value", { "x-request-id": "evil value;" }, null],
  ])("returns the provider's request id as x-upstream-request-id and logs it (%s)", async (_what, upstreamHeaders, expected) => {
    const up = await servers.upstream("up", completion(upstreamHeaders));
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: up.baseUrl }] }]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(response.headers.get("x-upstream-request-id")).toBe(expected);
    // The gateway's own request id is still its own.
    expect(response.headers.get("x-request-id")).not.toBe(expected);
    expect(gw.logs().find((l) => l.msg === "request")?.upstreamRequestId).toBe(expected ?? undefined);
  });

  it("returns the request id of a passed-through upstream error and of a stream", async () => {
    const up = await servers.upstream("up", (request) =>
      request.json?.stream
        ? { kind: "sse", chunks: ['data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n', "data: [DONE]\n\n"], headers: { "x-request-id": "req_stream" } }
        : { kind: "status", status: 400, body: JSON.stringify({ error: { message: "bad", type: "invalid_request_error", code: "bad" } }), headers: { "x-request-id": "req_400" } },
    );
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: up.baseUrl }] }]);
    const failed = await chat(gw.url, { model: "m" });
    expect([failed.status, failed.headers.get("x-upstream-request-id")]).toEqual([400, "req_400"]);
    const streamed = await chat(gw.url, { model: "m", stream: true });
    await streamed.text();
    expect(streamed.headers.get("x-upstream-request-id")).toBe("req_stream");
  });

  it("passes OpenAI-Beta and Idempotency-Key by default, OpenAI-Organization and OpenAI-Project only when the target lists them", async () => {
    const up = await servers.upstream("up", { kind: "ok" });
    const gw = await servers.gateway([
      { name: "default", targets: [{ name: "a", baseUrl: up.baseUrl }] },
      { name: "listed", targets: [{ name: "a", baseUrl: up.baseUrl, forwardHeaders: ["OpenAI-Organization", "OpenAI-Project", "Idempotency-Key"], headers: { "OpenAI-Organization": "org-configured" } }] },
      { name: "none", targets: [{ name: "a", baseUrl: up.baseUrl, forwardHeaders: [] }] },
    ]);
    const client = { "openai-beta": "assistants=v2", "idempotency-key": "idem-1", "openai-organization": "org-client", "openai-project": "proj_client" };
    for (const model of ["default", "listed", "none"]) expect((await chat(gw.url, { model }, client)).status).toBe(200);
    const seen = up.completions.map((r) => [r.headers["openai-beta"], r.headers["idempotency-key"], r.headers["openai-organization"], r.headers["openai-project"]]);
    expect(seen).toEqual([
      ["assistants=v2", "idem-1", undefined, undefined],
      // The target's own organization wins over the client's.
      [undefined, "idem-1", "org-configured", "proj_client"],
      [undefined, undefined, undefined, undefined],
    ]);
  });

  it("never forwards the client's credentials, whatever it sends", async () => {
    const up = await servers.upstream("up", { kind: "ok" });
    const gw = await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: up.baseUrl, apiKey: "sk-upstream" }] }]);
    const res = await chat(gw.url, { model: "m" }, { authorization: "Bearer sk-client", "x-api-key": "sk-client-2", cookie: "session=1" });
    expect(res.status).toBe(200);
    const headers = up.completions[0].headers;
    expect([headers.authorization, headers["x-api-key"], headers.cookie]).toEqual(["Bearer sk-upstream", undefined, undefined]);
    expect((await json(res)).object).toBe("chat.completion");
  });
});
