/** Repeated `model` keys: detected as keys only, and never forwarded raw to the upstream. */
import { hasRepeatedModelKey } from "../../../gateway/src/http/duplicate-key";
import { serverFixture } from "../../helpers/fixture";
import { chat } from "../../helpers/http-client";

describe("hasRepeatedModelKey", () => {
  it.each([
    ['{"model":"a","model":"b"}', true],
    ['{"model" : "a", "x": {"model":"b"}}', true],
    ['{"model":"a"}', false],
    ['{"model":"a","messages":[{"content":"the \\"model\\": field"}]}', false],
    ['{"model":"a","messages":[{"content":"\\"model\\""}]}', false],
    ['{"models":"a","model":"b"}', false],
  ])("%s → %s", (body, expected) => {
    expect(hasRepeatedModelKey(Buffer.from(body))).toBe(expected);
  });
});

describe("a body with two model keys", () => {
  const servers = serverFixture();

  it("reaches the upstream with only the model the gateway checked", async () => {
    const upstream = await servers.upstream("u", { kind: "ok" });
    await servers.gateway([
      { name: "allowed", targets: [{ name: "u", baseUrl: upstream.baseUrl }] },
    ]);
    const raw = '{"model":"forbidden-model","messages":[{"role":"user","content":"hi"}],"model":"allowed"}';
    const res = await fetch(`${servers.gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    expect(res.status).toBe(200);
    const sent = upstream.completions[0].body;
    expect(sent).not.toContain("forbidden-model");
    expect(JSON.parse(sent).model).toBe("allowed");
    // A plain body still goes through byte for byte.
    await chat(servers.gw.url, { model: "allowed" });
    expect(upstream.completions[1].body).toBe(JSON.stringify({ messages: [{ role: "user", content: "hi" }], model: "allowed" }));
  });
});
