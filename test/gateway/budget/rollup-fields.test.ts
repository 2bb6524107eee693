/** Rollup field names (gateway/src/budget/rollup.ts): the per-subject cache gives exactly what fieldOf builds. */
import { COUNTERS, fieldOf, fieldsOf, parseField } from "../../../gateway/src/budget/rollup";

describe("fieldsOf", () => {
  it("gives every counter's field in COUNTERS order, each parsing back to its subject and counter", () => {
    const subject = { key: 'k"ey\\1', team: "té:am", model: "gpt-4o-mini" };
    const fields = fieldsOf(subject);
    expect(fields).toEqual(COUNTERS.map((c) => fieldOf(subject, c)));
    fields.forEach((field, i) => expect(parseField(field)).toEqual({ subject, counter: COUNTERS[i] }));
  });

  it("returns the same names for the same subject, and distinct ones for subjects differing in one part", () => {
    const a = fieldsOf({ key: "a", team: "t", model: "m" });
    expect(fieldsOf({ key: "a", team: "t", model: "m" })).toBe(a);
    const others = [fieldsOf({ key: "b", team: "t", model: "m" }), fieldsOf({ key: "a", team: "u", model: "m" }), fieldsOf({ key: "a", team: "t", model: "n" })];
    for (const other of others) expect(other[0]).not.toBe(a[0]);
    // Parts that would collide if joined naively stay apart.
    expect(fieldsOf({ key: "a,b", team: "", model: "m" })[0]).not.toBe(fieldsOf({ key: "a", team: "b", model: "m" })[0]);
  });

  it("stays correct past its bound (the cache starts over)", () => {
    for (let i = 0; i < 10_000; i++) {
      const subject = { key: `k${i}`, team: `t${i % 7}`, model: "m" };
      expect(fieldsOf(subject)[1]).toBe(fieldOf(subject, COUNTERS[1]));
    }
  });
});
