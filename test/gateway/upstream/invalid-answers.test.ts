/**
 * Upstream redirects and HTML error pages never reach clients: they become 502
 * `upstream_invalid_response` in OpenAI's format (after failing over to another target), while
 * a JSON API error (a 400 for a bad request) still passes through.
 */
import { chat, json } from "../../helpers/http-client";
import { serverFixture } from "../../helpers/fixture";

const HTML = "<html><body><h1>404 Not Found</h1><hr>nginx</body></html>";

describe("redirects and error pages from upstream", () => {
  const servers = serverFixture();

  it("answers 502 upstream_invalid_response for a 3xx, without its Location", async () => {
    const moved = await servers.upstream("moved", { kind: "status", status: 302, headers: { location: "https://attacker.example/v1", "content-type": "text/html" }, body: "<a href='https://attacker.example/v1'>moved</a>" });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: moved.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(502);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toBe("application/json");
    expect((await json(res)).error).toMatchObject({ type: "server_error", code: "upstream_invalid_response" });
  });

  it("answers 502 upstream_invalid_response for an HTML error page, streaming or not", async () => {
    const page = await servers.upstream("page", { kind: "status", status: 404, headers: { "content-type": "text/html" }, body: HTML });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: page.baseUrl }] }]);
    for (const stream of [false, true]) {
      const res = await chat(servers.gw.url, { model: "m", stream });
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(text).not.toContain("<html");
      expect(JSON.parse(text).error).toMatchObject({ type: "server_error", code: "upstream_invalid_response" });
    }
  });

  it("fails over from a redirecting or HTML-answering target to a sane one", async () => {
    const moved = await servers.upstream("moved", { kind: "status", status: 301, headers: { location: "http://127.0.0.1:1/" } });
    const page = await servers.upstream("page", { kind: "status", status: 403, headers: { "content-type": "text/html; charset=utf-8" }, body: HTML });
    const good = await servers.upstream("good", { kind: "ok" });
    await servers.gateway([{ name: "m", strategy: "round-robin", targets: [{ name: "moved", baseUrl: moved.baseUrl }, { name: "page", baseUrl: page.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }]);
    // Round-robin: over three requests each target comes first once.
    for (let i = 0; i < 3; i++) {
      const res = await chat(servers.gw.url, { model: "m" });
      expect([res.status, res.headers.get("x-gateway-target")]).toEqual([200, "good"]);
    }
    expect(moved.completions.length).toBeGreaterThanOrEqual(1);
    expect(page.completions.length).toBeGreaterThanOrEqual(1);
  });

  it("does not eject a target for an HTML 4xx (a client's request may cause it), but does for a redirect", async () => {
    const page = await servers.upstream("page", { kind: "status", status: 413, headers: { "content-type": "text/html" }, body: HTML });
    const moved = await servers.upstream("moved", { kind: "status", status: 307, headers: { location: "http://127.0.0.1:1/" } });
    await servers.gateway(
      [
        { name: "page", targets: [{ name: "a", baseUrl: page.baseUrl }] },
        { name: "moved", targets: [{ name: "b", baseUrl: moved.baseUrl }] },
      ],
      { passiveHealth: { failures: 1, cooldownMs: 60_000 } },
    );
    for (let i = 0; i < 3; i++) expect((await chat(servers.gw.url, { model: "page" })).status).toBe(502);
    expect(page.completions).toHaveLength(3);
    expect((await chat(servers.gw.url, { model: "moved" })).status).toBe(502);
    expect((await chat(servers.gw.url, { model: "moved" })).status).toBe(503);
    expect(moved.completions).toHaveLength(1);
  });

  it("still passes a JSON 4xx API error through unchanged", async () => {
    const body = JSON.stringify({ error: { message: "max_tokens is too large", type: "invalid_request_error", param: "max_tokens", code: null } });
    const strict = await servers.upstream("strict", { kind: "status", status: 400, body });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: strict.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(body);
  });

  it("reads the usage of a passed-through answer from its top level, never from text quoting one", async () => {
    // The answer's content quotes a usage block, and a nested object carries one too: the access
    // log and the client see the real top-level usage.
    const quoting = JSON.stringify({
      id: "chatcmpl-q",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: 'fake: ,"usage":{"prompt_tokens":900000,"completion_tokens":900000}}' }, finish_reason: "stop" }],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      system_fingerprint: "fp_q",
    });
    const nested = JSON.stringify({ id: "chatcmpl-n", choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 }, meta: { usage: { prompt_tokens: 800000 } } });
    const up = await servers.upstream("up", (_req, i) => ({ kind: "status", status: 200, headers: { "content-type": "application/json" }, body: i === 0 ? quoting : nested }));
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: up.baseUrl }] }], { logging: { level: "info", accessLog: true } });
    const first = await chat(servers.gw.url, { model: "m" });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe(quoting);
    const second = await chat(servers.gw.url, { model: "m" });
    expect(await second.text()).toBe(nested);
    const lines = servers.gw.logs().filter((l) => l.msg === "request");
    expect(lines.map((l) => [l.promptTokens, l.completionTokens])).toEqual([
      [11, 7],
      [3, 4],
    ]);
  });

  it("still fails over from a 200 whose JSON body does not parse, usage or not", async () => {
    const cut = await servers.upstream("cut", { kind: "status", status: 200, headers: { "content-type": "application/json" }, body: '{"id":"x","choices":[' });
    const good = await servers.upstream("good", { kind: "ok" });
    await servers.gateway([{ name: "m", targets: [{ name: "cut", baseUrl: cut.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    expect([res.status, res.headers.get("x-gateway-target")]).toEqual([200, "good"]);
    expect(cut.completions.length).toBe(1);
  });
});
