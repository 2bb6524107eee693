/** The delivered-text tally: one pattern pass gives what a field-by-field byte search gives. */
import { fieldKeys, tallyDeltas, tokensOfTally, type DeltaTally } from "../../../gateway/src/stream/delta-count";

/** The obvious algorithm, as the oracle: each field name searched on its own. */
function naiveTally(data: Buffer, names: readonly string[]): DeltaTally {
  const tally = { pieces: 0, bytes: 0 };
  for (const name of names) {
    const key = Buffer.from(`"${name}":`);
    for (let at = data.indexOf(key); at !== -1; ) {
      let i = at + key.length;
      while (i < data.length && data[i] === 0x20) i++;
      if (data[i] === 0x22) {
        const start = ++i;
        while (i < data.length && data[i] !== 0x22) i += data[i] === 0x5c ? 2 : 1;
        if (i > start) {
          tally.pieces++;
          tally.bytes += Math.min(i, data.length) - start;
        }
      }
      at = data.indexOf(key, i);
    }
  }
  return tally;
}

const OPENAI = ["content", "text", "refusal", "reasoning_content", "arguments"];

describe("tallyDeltas", () => {
  it("counts every generated-text field, escapes and UTF-8 included, as the field-by-field search does", () => {
    const events = [
      { choices: [{ delta: { role: "assistant", content: "" } }] },
      { choices: [{ delta: { content: 'He said "hi" \\ then \u00e9\u4e2d\ud83d\ude00' } }] },
      { choices: [{ delta: { reasoning_content: "think" } }] },
      { choices: [{ delta: { tool_calls: [{ function: { arguments: '{"city":"Paris"}' } }] } }] },
      { choices: [{ text: "completion text" }] },
      { choices: [{ delta: { refusal: "no" } }] },
      { choices: [{ delta: { content: null } }], usage: null },
    ];
    const data = Buffer.from(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + 'data: {"content":  "spaced"}\n\n');
    const tally = { pieces: 0, bytes: 0 };
    tallyDeltas(data, 0, data.length, tally);
    expect(tally).toEqual(naiveTally(data, OPENAI));
    expect(tally.pieces).toBe(6);
  });

  it("counts within the given range only, and a value cut at the range's end up to it", () => {
    const data = Buffer.from('xx data: {"content":"abc"} data: {"content":"defg');
    const whole = { pieces: 0, bytes: 0 };
    tallyDeltas(data, 0, data.length, whole);
    expect(whole).toEqual({ pieces: 2, bytes: 7 });
    const part = { pieces: 0, bytes: 0 };
    tallyDeltas(data, 3, 26, part);
    expect(part).toEqual({ pieces: 1, bytes: 3 });
  });

  it("takes another dialect's fields, and a field name inside a string value is not a field", () => {
    const anthropic = ["text", "thinking", "partial_json"];
    const data = Buffer.from('event: x\ndata: {"delta":{"type":"text_delta","text":"say \\"content\\": no"}}\n\ndata: {"delta":{"partial_json":"{\\"a\\":1}"}}\n\n');
    const tally = { pieces: 0, bytes: 0 };
    tallyDeltas(data, 0, data.length, tally, fieldKeys(anthropic));
    expect(tally).toEqual(naiveTally(data, anthropic));
    expect(tally.pieces).toBe(2);
    const openai = { pieces: 0, bytes: 0 };
    tallyDeltas(data, 0, data.length, openai);
    expect(openai.pieces).toBe(1);
  });

  it("agrees with the field-by-field search on random event streams", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    for (let round = 0; round < 200; round++) {
      let text = "";
      for (let e = 0; e < 1 + Math.floor(random() * 6); e++) {
        const value = Array.from({ length: Math.floor(random() * 12) }, () => pick(["a", " ", '"', "\\", "\u00e9", "x", ":"])).join("");
        text += `data: ${JSON.stringify({ [pick([...OPENAI, "role", "id"])]: pick([value, null, 3]) })}\n\n`;
      }
      const data = Buffer.from(text);
      const tally = { pieces: 0, bytes: 0 };
      tallyDeltas(data, 0, data.length, tally);
      expect(tally).toEqual(naiveTally(data, OPENAI));
    }
  });

  it("finds a field whose opening quote is the previous value's closing quote, and none in a name that only ends like one", () => {
    // The pattern carries the name's opening quote (no lookbehind, which Node 20 ran ~5x slower):
    // after a value the search resumes at its closing quote, so a name right after it still counts.
    const data = Buffer.from('{"content":"ab"text":"cde","xcontent":"no","reasoning_content":"fg"}');
    const tally = { pieces: 0, bytes: 0 };
    tallyDeltas(data, 0, data.length, tally);
    expect(tally).toEqual({ pieces: 3, bytes: 7 });
    expect(tally).toEqual(naiveTally(data, OPENAI));
  });

  it("charges at least a token a piece, else four bytes a token", () => {
    expect(tokensOfTally({ pieces: 3, bytes: 4 })).toBe(3);
    expect(tokensOfTally({ pieces: 1, bytes: 40 })).toBe(10);
  });
});
