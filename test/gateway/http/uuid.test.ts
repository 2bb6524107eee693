import { randomUUID } from "node:crypto";
import { randomUuid } from "../../../gateway/src/http/uuid";
import { requestIdFrom } from "../../../gateway/src/http/request-id";

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("randomUuid", () => {
  it("makes version 4 UUIDs in crypto.randomUUID's format, across pool refills, all distinct", () => {
    expect(randomUUID()).toMatch(V4);
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const id = randomUuid();
      expect(id).toMatch(V4);
      seen.add(id);
    }
    expect(seen.size).toBe(5_000);
  });

  it("uses every hex digit in each random position (no stuck bits)", () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2_000; i++) [...randomUuid()].forEach((c, at) => digits[at].add(c));
    for (let at = 0; at < 36; at++) {
      if ([8, 13, 18, 23].includes(at)) expect([...digits[at]]).toEqual(["-"]);
      else if (at === 14) expect([...digits[at]]).toEqual(["4"]);
      else if (at === 19) expect([...digits[at]].sort()).toEqual(["8", "9", "a", "b"]);
      else expect(digits[at].size).toBe(16);
    }
  });

  it("is what a request gets when its own X-Request-Id is missing or unsafe", () => {
    expect(requestIdFrom(undefined)).toMatch(V4);
    expect(requestIdFrom("bad id with spaces")).toMatch(V4);
    expect(requestIdFrom("client-id-1")).toBe("client-id-1");
  });
});
