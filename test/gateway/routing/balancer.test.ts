/** The four balancing strategies, as pure functions of their candidates. */
import { createBalancer, latencyScore } from "../../../gateway/src/routing/balancer";
import { counts, makeTarget, picks } from "./targets";

/** A deterministic random source cycling through `values`. */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe("round-robin", () => {
  it("cycles through the candidates in order", () => {
    const balancer = createBalancer("round-robin");
    const candidates = [makeTarget("a"), makeTarget("b"), makeTarget("c")];
    expect(picks(() => balancer.pick(candidates), 7)).toEqual(["a", "b", "c", "a", "b", "c", "a"]);
  });

  it("keeps spreading when the candidate list shrinks (a target went down)", () => {
    const balancer = createBalancer("round-robin");
    const [a, b, c] = [makeTarget("a"), makeTarget("b"), makeTarget("c")];
    balancer.pick([a, b, c]);
    expect(counts(picks(() => balancer.pick([a, c]), 10))).toEqual({ a: 5, c: 5 });
  });

  it("returns null without candidates", () => {
    expect(createBalancer("round-robin").pick([])).toBeNull();
  });
});

describe("weighted (smooth weighted round-robin)", () => {
  it("honours 3:1 exactly over whole cycles", () => {
    const balancer = createBalancer("weighted");
    const candidates = [makeTarget("heavy", { weight: 3 }), makeTarget("light", { weight: 1 })];
    expect(counts(picks(() => balancer.pick(candidates), 40))).toEqual({ heavy: 30, light: 10 });
  });

  it("interleaves instead of bunching the heavy target (nginx order)", () => {
    const balancer = createBalancer("weighted");
    const candidates = [makeTarget("a", { weight: 5 }), makeTarget("b", { weight: 1 }), makeTarget("c", { weight: 1 })];
    expect(picks(() => balancer.pick(candidates), 7)).toEqual(["a", "a", "b", "a", "c", "a", "a"]);
  });

  it("splits 5:3:2 exactly every ten picks", () => {
    const balancer = createBalancer("weighted");
    const candidates = [makeTarget("a", { weight: 5 }), makeTarget("b", { weight: 3 }), makeTarget("c", { weight: 2 })];
    for (let round = 0; round < 3; round++) expect(counts(picks(() => balancer.pick(candidates), 10))).toEqual({ a: 5, b: 3, c: 2 });
  });

  it("gives the remaining target everything when the heavy one is missing", () => {
    const balancer = createBalancer("weighted");
    const light = makeTarget("light");
    expect(picks(() => balancer.pick([light]), 3)).toEqual(["light", "light", "light"]);
    expect(balancer.pick([])).toBeNull();
  });
});

describe("least-busy", () => {
  it("picks the target with the fewest requests in flight", () => {
    const balancer = createBalancer("least-busy");
    const candidates = [makeTarget("a", { inflight: 4 }), makeTarget("b", { inflight: 1 }), makeTarget("c", { inflight: 2 })];
    expect(picks(() => balancer.pick(candidates), 5)).toEqual(["b", "b", "b", "b", "b"]);
  });

  it("spreads ties instead of always taking the first", () => {
    const balancer = createBalancer("least-busy");
    const candidates = [makeTarget("a"), makeTarget("b")];
    expect(counts(picks(() => balancer.pick(candidates), 10))).toEqual({ a: 5, b: 5 });
  });

  it("follows in-flight counts as they change", () => {
    const balancer = createBalancer("least-busy");
    const [a, b] = [makeTarget("a"), makeTarget("b")];
    for (let i = 0; i < 6; i++) balancer.pick([a, b])!.inflight++;
    expect([a.inflight, b.inflight]).toEqual([3, 3]);
  });
});

describe("latency (power of two choices over EWMA)", () => {
  it("scores EWMA latency times (in-flight + 1), unmeasured targets as 1 ms", () => {
    expect(latencyScore(makeTarget("a", { ewmaMs: 20, inflight: 2 }))).toBe(60);
    expect(latencyScore(makeTarget("b"))).toBe(1);
  });

  it("of the two sampled candidates, takes the lower score", () => {
    const fast = makeTarget("fast", { ewmaMs: 5 });
    const slow = makeTarget("slow", { ewmaMs: 200 });
    // Both orders of sampling end on the fast target.
    expect(createBalancer("latency", sequence([0, 0])).pick([slow, fast])?.name).toBe("fast");
    expect(createBalancer("latency", sequence([0.9, 0])).pick([slow, fast])?.name).toBe("fast");
  });

  it("never samples the same candidate twice", () => {
    const candidates = [makeTarget("a", { ewmaMs: 1 }), makeTarget("b", { ewmaMs: 50 }), makeTarget("c", { ewmaMs: 100 })];
    // First sample c (index 2); the second, drawn from the other two, lands on b: b beats c.
    expect(createBalancer("latency", sequence([0.99, 0.99])).pick(candidates)?.name).toBe("b");
    // The worst candidate only wins when paired with itself, which cannot happen.
    const seen = new Set(picks(() => createBalancer("latency").pick(candidates), 200));
    expect(seen.has("c")).toBe(false);
  });

  it("prefers a fast target that is not overloaded, and sheds load from a busy one", () => {
    const fast = makeTarget("fast", { ewmaMs: 10, inflight: 9 });
    const slow = makeTarget("slow", { ewmaMs: 40 });
    expect(createBalancer("latency", sequence([0, 0])).pick([fast, slow])?.name).toBe("slow");
    fast.inflight = 0;
    expect(createBalancer("latency", sequence([0, 0])).pick([fast, slow])?.name).toBe("fast");
  });

  it("explores an unmeasured target", () => {
    const measured = makeTarget("measured", { ewmaMs: 30 });
    const fresh = makeTarget("fresh");
    expect(createBalancer("latency", sequence([0, 0])).pick([measured, fresh])?.name).toBe("fresh");
  });

  it("handles one and zero candidates", () => {
    const only = makeTarget("only", { ewmaMs: 999 });
    expect(createBalancer("latency").pick([only])).toBe(only);
    expect(createBalancer("latency").pick([])).toBeNull();
  });
});
