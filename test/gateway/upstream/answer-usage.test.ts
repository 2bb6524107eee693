/** The tail scan for a buffered answer's top-level usage (gateway/src/upstream/answer-usage.ts), against JSON.parse as the oracle. */
import { topLevelUsage } from "../../../gateway/src/upstream/answer-usage";

const usage = { prompt_tokens: 19, completion_tokens: 20, total_tokens: 39, prompt_tokens_details: { cached_tokens: 0 } };
const answer = (extra: Record<string, unknown> = {}, content = "Hello!") => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  usage,
  ...extra,
});
const buf = (value: unknown, space?: number) => Buffer.from(JSON.stringify(value, null, space));

describe("topLevelUsage", () => {
  it("finds the usage of OpenAI's answer shape, compact or pretty-printed, with members after it", () => {
    expect(topLevelUsage(buf(answer()))).toEqual(usage);
    expect(topLevelUsage(buf(answer(), 2))).toEqual(usage);
    expect(topLevelUsage(buf(answer({ service_tier: "default", system_fingerprint: "fp_1" })))).toEqual(usage);
    expect(topLevelUsage(Buffer.from(`  \n${JSON.stringify(answer())}\n\n`))).toEqual(usage);
  });

  it("is not fooled by `usage` inside strings, as a value, or in a nested object", () => {
    // Content quoting a usage block: its quotes are escaped, so it is never a key.
    const quoting = answer({}, 'see ,"usage":{"prompt_tokens":999999} and {"usage": {"prompt_tokens": 5}}');
    expect(topLevelUsage(buf(quoting))).toEqual(usage);
    // A nested usage after the top-level one: the scan refuses to decide (the caller parses).
    const nested = { ...answer(), extra: { usage: { prompt_tokens: 7 } } };
    expect(topLevelUsage(buf(nested))).toBeNull();
    expect(topLevelUsage(buf({ ...answer(), tags: ["usage", "x"] }))).toEqual(usage);
    expect(topLevelUsage(buf({ a: "usage", usage }))).toEqual(usage);
  });

  it("takes the last of duplicate top-level keys, as JSON.parse does", () => {
    const body = Buffer.from(`{"usage":{"prompt_tokens":1},"id":"x","usage":{"prompt_tokens":2,"completion_tokens":3}}`);
    expect(topLevelUsage(body)).toEqual(JSON.parse(body.toString()).usage);
  });

  it("returns null (parse it all) when it cannot vouch: no usage, not an object, far from the end, truncated, not an object body", () => {
    expect(topLevelUsage(buf({ id: "x", choices: [] }))).toBeNull();
    expect(topLevelUsage(buf({ ...answer(), usage: null }))).toBeNull();
    expect(topLevelUsage(buf({ usage, choices: [{ message: { content: "x".repeat(10_000) } }] }))).toBeNull();
    const whole = JSON.stringify(answer());
    expect(topLevelUsage(Buffer.from(whole.slice(0, -1)))).toBeNull();
    expect(topLevelUsage(Buffer.from(`[${whole}]`))).toBeNull();
    expect(topLevelUsage(Buffer.from(whole.replace('"usage":{', '"usage":{"a":]')))).toBeNull();
    expect(topLevelUsage(Buffer.from(""))).toBeNull();
    expect(topLevelUsage(Buffer.from("{}"))).toBeNull();
  });

  it("agrees with JSON.parse on generated answers (escapes, unicode, nesting, key order)", () => {
    let x = 42;
    const rand = (n: number) => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    const pieces = ['"', "\\", '\\"', "usage", '"usage":', "{", "}", "[", "]", ",", "é", "漢", "\n", " "];
    for (let i = 0; i < 2_000; i++) {
      let content = "";
      for (let j = rand(30); j > 0; j--) content += pieces[rand(pieces.length)];
      const u = { prompt_tokens: rand(1000), completion_tokens: rand(1000), completion_tokens_details: { reasoning_tokens: rand(10) } };
      const members: [string, unknown][] = [
        ["id", `c-${i}`],
        ["choices", [{ index: 0, message: { role: "assistant", content, tool_calls: rand(2) ? [{ function: { arguments: JSON.stringify({ usage: content }) } }] : undefined } }]],
        ["usage", u],
        ["meta", rand(2) ? { nested: [content, { k: content }] } : content],
      ];
      // Usage anywhere in the key order.
      const ordered = members.sort(() => rand(3) - 1);
      const body = Buffer.from(JSON.stringify(Object.fromEntries(ordered), null, rand(3) === 0 ? 1 : undefined));
      const found = topLevelUsage(body);
      // Never a wrong answer; null is allowed (the caller then parses).
      if (found !== null) expect(found).toEqual(JSON.parse(body.toString()).usage);
      if (ordered[ordered.length - 1][0] === "usage") expect(found).toEqual(u);
    }
  });
});
