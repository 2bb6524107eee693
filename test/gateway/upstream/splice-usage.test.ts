/** Splicing stream_options.include_usage into a raw JSON object body. */
import { spliceIncludeUsage } from "../../../gateway/src/upstream/splice-usage";

const spliced = (text: string) => {
  const out = spliceIncludeUsage(Buffer.from(text, "utf8"));
  return out === null ? null : JSON.parse(out.toString("utf8"));
};

describe("spliceIncludeUsage", () => {
  it("adds the member before the closing brace, keeping every other member", () => {
    expect(spliced('{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}')).toEqual({
      model: "m",
      stream: true,
      messages: [{ role: "user", content: "hi" }],
      stream_options: { include_usage: true },
    });
  });

  it("copes with whitespace after the closing brace and before it", () => {
    expect(spliced('{"model":"m"}\n')).toEqual({ model: "m", stream_options: { include_usage: true } });
    expect(spliced('  {\n  "model" : "m" \r\n}\t \r\n')).toEqual({ model: "m", stream_options: { include_usage: true } });
  });

  it("keeps multi-byte text and escapes byte for byte", () => {
    const text = '{"model":"m","messages":[{"role":"user","content":"héllo 🌍 \\u0000 \\"}\\" 日本"}]}';
    const out = spliceIncludeUsage(Buffer.from(text, "utf8"))!;
    expect(out.toString("utf8")).toBe(`${text.slice(0, -1)},"stream_options":{"include_usage":true}}`);
    expect(JSON.parse(out.toString("utf8")).messages[0].content).toBe('héllo 🌍 \u0000 "}" 日本');
  });

  it("handles empty and whitespace-only objects without a stray comma", () => {
    expect(spliced("{}")).toEqual({ stream_options: { include_usage: true } });
    expect(spliced("{ \n }  ")).toEqual({ stream_options: { include_usage: true } });
  });

  it("returns null for bytes that do not end like an object", () => {
    expect(spliceIncludeUsage(Buffer.from(""))).toBeNull();
    expect(spliceIncludeUsage(Buffer.from("   "))).toBeNull();
    expect(spliceIncludeUsage(Buffer.from("}"))).toBeNull();
    expect(spliceIncludeUsage(Buffer.from("[1]"))).toBeNull();
  });
});
