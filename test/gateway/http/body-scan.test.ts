/**
 * Bodies whose keys could read differently upstream (a repeated key, a key written with a JSON
 * escape such as `"mod\u0065l"`): detected on decoded keys, and forwarded as the gateway's own
 * serialisation of what it checked, never raw. Plain bodies still go through byte for byte.
 */
import { scanJsonBody } from "../../../gateway/src/http/body-scan";
import { serverFixture } from "../../helpers/fixture";
import { chat } from "../../helpers/http-client";
import type { MockUpstream, RecordedRequest } from "../../helpers/mock-upstream";
import { mockChatCompletion } from "../../../gateway/src/upstream/mock-responses";
import type { TestGateway } from "../../helpers/gateway-harness";
import { startTrafficGateway } from "../traffic/http-helpers";
import { MockUpstream as Upstream } from "../../helpers/mock-upstream";

describe("scanJsonBody", () => {
  it("keeps nothing from one scan to the next (its scratch space is reused)", () => {
    const b = (s: string) => Buffer.from(s);
    // A scan that stops early (too deep, a duplicate) leaves levels behind; the next starts clean.
    expect(scanJsonBody(b(`{"a":{"k":1,"k":2}}`))).toBe("ambiguous-keys");
    expect(scanJsonBody(b(`{"a":{"k":1}}`))).toBe("plain");
    expect(scanJsonBody(b("[".repeat(200) + "]".repeat(200)))).toBe("too-deep");
    expect(scanJsonBody(b(`[{"k":1},{"k":2}]`))).toBe("plain");
    expect(scanJsonBody(b(`{"x":[1,{"k":1}],"k":2}`))).toBe("plain");
    // Top-level commas after an array at depth 1 never count as keys (level 0 is never an object level).
    expect(scanJsonBody(b(`[1,"k","k"]`))).toBe("plain");
    expect(scanJsonBody(b(`{"deep":${"[".repeat(10)}${"]".repeat(10)}}`), 5)).toBe("too-deep");
    expect(scanJsonBody(b(`{"k":1,"k":1}`))).toBe("ambiguous-keys");
  });

  it.each([
    ['{"model":"a","model":"b"}', "ambiguous-keys"],
    ['{"model" : "a", "x": {"model":"b"}}', "plain"],
    ['{"x": {"model":"a", "y": 1, "model":"b"}}', "ambiguous-keys"],
    ['[{"a":1},{"a":2}]', "plain"],
    ['{"model":"a"}', "plain"],
    ['{"mod\\u0065l":"a"}', "ambiguous-keys"],
    ['{"model":"a","m\\u0065ssages":[]}', "ambiguous-keys"],
    ['{"model":"a","messages":[{"content":"the \\"model\\": field, \\u0041"}]}', "plain"],
    ['{"model":"a","messages":[{"content":"a","role":"user"},{"content":"b","role":"user"}]}', "plain"],
    ['{"models":"a","model":"b"}', "plain"],
    ['{"mod\u00e9l":"a"}', "ambiguous-keys"],
    ['{"a":[1,{"b":2,"c":{"d":[3]}}],"e":"}{,\\"f\\":"}', "plain"],
  ])("%s → %s", (body, expected) => {
    expect(scanJsonBody(Buffer.from(body))).toBe(expected);
  });

  it("stays linear on an object with many keys, and finds a repeat among them", () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`);
    expect(scanJsonBody(Buffer.from(`{${keys.join(",")}}`))).toBe("plain");
    expect(scanJsonBody(Buffer.from(`{${keys.join(",")},"k49999":0}`))).toBe("ambiguous-keys");
  });
});

/** Every top-level key of a raw JSON object body as written, decoded: what a first-wins parser would see. */
function decodedTopLevelKeys(raw: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === '"') {
      const start = i;
      for (i++; raw[i] !== '"'; i++) if (raw[i] === "\\") i++;
      if (depth === 1 && /^\s*:/.test(raw.slice(i + 1))) keys.push(JSON.parse(raw.slice(start, i + 1)) as string);
    }
  }
  return keys;
}

describe("a body whose keys could read differently upstream", () => {
  const servers = serverFixture();
  const HELLO = [{ role: "user", content: "hi" }];

  it.each([
    ["model", '{"model":"forbidden-model","messages":[{"role":"user","content":"hi"}],"mod\\u0065l":"allowed"}'],
    ["messages", '{"model":"allowed","messages":[{"role":"user","content":"EVIL"}],"m\\u0065ssages":[{"role":"user","content":"hi"}]}'],
    ["stream", '{"model":"allowed","stream":true,"messages":[{"role":"user","content":"hi"}],"str\\u0065am":false}'],
    ["max_tokens", '{"model":"allowed","max_tokens":100000,"messages":[{"role":"user","content":"hi"}],"max_t\\u006fkens":1}'],
    ["a plain repeat", '{"model":"forbidden-model","messages":[{"role":"user","content":"hi"}],"model":"allowed"}'],
  ])("%s: the upstream receives each key once, with the value the gateway checked", async (_field, raw) => {
    const upstream = await servers.upstream("u", { kind: "ok" });
    await servers.gateway([{ name: "allowed", targets: [{ name: "u", baseUrl: upstream.baseUrl }] }]);
    const res = await fetch(`${servers.gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    expect(res.status).toBe(200);
    const sent = upstream.completions[0].body;
    const keys = decodedTopLevelKeys(sent);
    expect(keys).toEqual([...new Set(keys)]);
    expect(JSON.parse(sent)).toEqual(JSON.parse(raw));
    expect(sent).not.toMatch(/forbidden-model|EVIL|100000/);
    // A plain body still goes through byte for byte.
    await chat(servers.gw.url, { model: "allowed" });
    expect(upstream.completions[1].body).toBe(JSON.stringify({ messages: HELLO, model: "allowed" }));
  });
});

describe("cache poisoning through an escaped duplicate `messages`", () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  afterEach(async () => {
    await gateway.close();
    await upstream.stop();
  });

  /** An upstream whose JSON parser keeps the first of two equal keys (as some do): it answers the first `content`. */
  function firstWins(request: RecordedRequest) {
    const first = /"content"\s*:\s*"([^"]*)"/.exec(request.body)?.[1] ?? "";
    const answer = mockChatCompletion({ model: "m" }, 4, "first-wins");
    (answer.choices as { message: { content: string } }[])[0].message.content = `you said: ${first}`;
    return { kind: "garbage" as const, contentType: "application/json", body: JSON.stringify(answer) };
  }

  it("cannot store an answer to one prompt under another prompt's key", async () => {
    upstream = await Upstream.start("first-wins", firstWins);
    gateway = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "u", baseUrl: upstream.baseUrl }] }],
      cache: { enabled: true, ttlMs: 60_000, scope: "shared" },
      keys: [{ name: "mallory", key: "sk-mallory-0123456789" }, { name: "victim", key: "sk-victim-0123456789" }],
    });
    const poison = '{"model":"m","temperature":0,"messages":[{"role":"user","content":"EVIL"}],"m\\u0065ssages":[{"role":"user","content":"hello"}]}';
    const attack = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-mallory-0123456789" }, body: poison });
    expect(attack.status).toBe(200);
    expect(attack.headers.get("x-cache")).toBe("MISS");
    const victim = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-victim-0123456789" },
      body: JSON.stringify({ model: "m", temperature: 0, messages: [{ role: "user", content: "hello" }] }),
    });
    expect(victim.status).toBe(200);
    const answer = (await victim.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0].message.content).toBe("you said: hello");
    expect(upstream.completions.map((r) => r.body).join("\n")).not.toContain("EVIL");
  });
});
