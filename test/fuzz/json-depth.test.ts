/** Property tests of the nesting and key guard run on every request body before JSON.parse. */
import fc from "fast-check";
import { jsonTooDeep, scanJsonBody } from "../../gateway/src/http/body-scan";

const SEED = 20_251_122;

function depthOf(value: unknown): number {
  // Iterative, so the oracle itself survives what it measures.
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    max = Math.max(max, depth + 1);
    for (const child of Object.values(node as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return max;
}

/** JSON whose strings are full of brackets, quotes and escapes: the scanner must not count those. */
const trickyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", "a", "\u00e9", "\n") }),
    fc.integer(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: fc.constantFrom("[", "{", '"', "\\", "k") }), tie("value"), { maxKeys: 4 }),
  ),
})).value;

describe("jsonTooDeep", () => {
  it("agrees with the real nesting depth of any JSON value, whatever its strings contain", () => {
    let tried = 0;
    fc.assert(
      fc.property(trickyJson, fc.integer({ min: 0, max: 8 }), (value, max) => {
        tried++;
        const raw = Buffer.from(JSON.stringify(value), "utf8");
        expect(jsonTooDeep(raw, max)).toBe(depthOf(value) > max);
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(tried).toBe(500);
  });

  it("catches pathological nesting in one pass, without recursion", () => {
    const deep = Buffer.from(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`);
    expect(jsonTooDeep(deep)).toBe(true);
    expect(jsonTooDeep(Buffer.from('{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'), 2)).toBe(false);
    expect(jsonTooDeep(Buffer.from('{"a":"\\"[[[[[[[["}'), 1)).toBe(false);
  });
});

/** True when some key, anywhere in `value`, is written with an escape or non-ASCII bytes by JSON.stringify. */
function hasEncodedKey(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(hasEncodedKey);
  return Object.entries(value).some(([key, child]) => /["\\\u0000-\u001f\u0080-\uffff]/.test(key) || hasEncodedKey(child));
}

describe("scanJsonBody", () => {
  it("calls a body ambiguous exactly when one of its keys is not written as plain ASCII (JSON.stringify never repeats a key)", () => {
    let tried = 0;
    fc.assert(
      fc.property(trickyJson, (value) => {
        tried++;
        const raw = Buffer.from(JSON.stringify(value), "utf8");
        expect(scanJsonBody(raw, 64)).toBe(hasEncodedKey(value) ? "ambiguous-keys" : "plain");
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(tried).toBe(500);
  });
});
