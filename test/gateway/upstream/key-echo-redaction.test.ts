/**
 * An upstream that echoes the key the gateway sent it (in an error body, a success, a stream)
 * never shows it to the client: in any encoding (JSON `\u` and `\/` escapes, URL escapes,
 * gzip / br / deflate bodies), and across stream chunk boundaries.
 */
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { chat, readStream } from "../../helpers/http-client";
import { serverFixture } from "../../helpers/fixture";
import type { Behavior } from "../../helpers/mock-upstream";

const KEY = "sk-proj/Echo-0123456789-SECRET";

/** Every way a client could read the key back out of what it got. */
function readable(bytes: Buffer): string[] {
  const views = [bytes.toString("utf8")];
  for (const decode of [gunzipSync, brotliDecompressSync, inflateSync]) {
    try {
      views.push(decode(bytes).toString("utf8"));
    } catch {
      // not that encoding
    }
  }
  return views.flatMap((view) => {
    const layers = [view];
    for (let i = 0; i < 4; i++) {
      const last = layers[layers.length - 1];
      layers.push(
        last
          .replace(/\\u([0-9a-fA-F]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
          .replace(/\\\//g, "/")
          .replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      );
    }
    return layers;
  });
}

const jsonEscapeAll = (text: string) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
const urlEncodeAll = (text: string) => [...text].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join("");
const errorJson = (quoted: string) => `{"error":{"message":"Incorrect API key provided: ${quoted}","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`;

const ENCODINGS: [string, Behavior][] = [
  ["raw", { kind: "status", status: 400, body: errorJson(KEY) }],
  ["JSON escape of one character", { kind: "status", status: 400, body: errorJson(`\\u0073${KEY.slice(1).replace("/", "\\/")}`) }],
  ["JSON escape of every character", { kind: "status", status: 400, body: errorJson(jsonEscapeAll(KEY)) }],
  ["URL-encoded", { kind: "status", status: 400, body: errorJson(encodeURIComponent(KEY)) }],
  ["URL-encoded, every character", { kind: "status", status: 400, body: errorJson(urlEncodeAll(KEY).toLowerCase()) }],
  ["URL-encoded JSON escapes (two layers)", { kind: "status", status: 400, body: errorJson(encodeURIComponent(jsonEscapeAll(KEY))) }],
  ["gzip", { kind: "status", status: 400, headers: { "content-encoding": "gzip" }, body: gzipSync(errorJson(KEY)) }],
  ["br", { kind: "status", status: 400, headers: { "content-encoding": "br" }, body: brotliCompressSync(errorJson(KEY)) }],
  ["deflate", { kind: "status", status: 400, headers: { "content-encoding": "deflate" }, body: deflateSync(errorJson(jsonEscapeAll(KEY))) }],
];

describe("upstream key echoes never reach the client", () => {
  const servers = serverFixture();

  it.each(ENCODINGS)("in an error body: %s", async (_name, behavior) => {
    const echo = await servers.upstream("echo", behavior);
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: echo.baseUrl, apiKey: KEY }] }]);
    const res = await chat(servers.gw.url, { model: "m" });
    const body = Buffer.from(await res.arrayBuffer());
    for (const view of readable(body)) expect(view).not.toContain(KEY);
    // Redacted and passed on as the upstream's 400 (uncompressed); only a key under two layers of escapes is refused.
    // (A 401/403 is never passed on at all: upstream-auth.test.ts.)
    const error = JSON.parse(body.toString("utf8")).error;
    if (_name.includes("two layers")) expect([res.status, error.code]).toEqual([502, "upstream_invalid_response"]);
    else expect([res.status, error.message]).toEqual([400, "Incorrect API key provided: [redacted]"]);
    expect(echo.completions[0].headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("in a non-streaming success (and in the cached copy)", async () => {
    const answer = JSON.stringify({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: `you sent ${KEY}` }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    const echo = await servers.upstream("echo", { kind: "status", status: 200, body: answer });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: echo.baseUrl, apiKey: KEY }] }], { cache: { enabled: true } });
    for (let i = 0; i < 2; i++) {
      const res = await chat(servers.gw.url, { model: "m", temperature: 0 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0].message.content).toBe("you sent [redacted]");
    }
  });

  it("in a stream, also when the key is split across chunks", async () => {
    const event = (content: string) => `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const whole = event(`key: ${KEY}`);
    const split = event(`again ${KEY}`);
    const cut = split.indexOf(KEY) + 7;
    const echo = await servers.upstream("echo", { kind: "sse", chunks: [whole, split.slice(0, cut), split.slice(cut), "data: [DONE]\n\n"] });
    await servers.gateway([{ name: "m", targets: [{ name: "a", baseUrl: echo.baseUrl, apiKey: KEY }] }]);
    const res = await chat(servers.gw.url, { model: "m", stream: true });
    const text = await readStream(res);
    expect(text).not.toContain(KEY);
    expect(text).toContain("key: [redacted]");
    expect(text).toContain("again [redacted]");
    expect(text).toContain("data: [DONE]");
  });
});
