/** Model pools: candidate filtering, fallback chains, and what /readyz considers unservable. */
import { validateConfig } from "../../../gateway/src/config/validate";
import { Router } from "../../../gateway/src/routing/router";

const T0 = 1_000_000;
const t = (name: string) => ({ name, baseUrl: `mock://${name}` });

function router() {
  return new Router(
    validateConfig({
      passiveHealth: { failures: 1, cooldownMs: 1_000 },
      models: [
        { name: "main", strategy: "round-robin", fallbacks: ["backup", "last"], targets: [t("a"), t("b"), t("c")] },
        { name: "backup", targets: [t("d")] },
        { name: "last", targets: [t("e")] },
        { name: "alone", targets: [t("f")] },
      ],
    }),
  );
}

describe("Router", () => {
  it("resolves pools by the client-facing model name only", () => {
    const r = router();
    expect(r.resolve("main")?.name).toBe("main");
    expect(r.resolve("a")).toBeUndefined();
    expect(r.resolve("MAIN")).toBeUndefined();
    expect(r.allTargets.map((s) => s.id)).toEqual(["main/a", "main/b", "main/c", "backup/d", "last/e", "alone/f"]);
  });

  it("chains a pool with its fallbacks, in order", () => {
    expect(router().resolve("main")!.chain.map((p) => p.name)).toEqual(["main", "backup", "last"]);
  });

  it("never picks a tried or unavailable target, and runs out with null", () => {
    const pool = router().resolve("main")!;
    const [a, b, c] = pool.targets;
    b.recordFailure(T0);
    const tried = new Set([a]);
    expect(pool.pick(T0, tried)).toBe(c);
    tried.add(c);
    expect(pool.pick(T0, tried)).toBeNull();
    expect(pool.pick(T0 + 1_000, tried)).toBe(b);
    expect(pool.healthyCount(T0)).toBe(2);
  });

  it("a single-target pool answers with its target while it is usable", () => {
    const pool = router().resolve("alone")!;
    const [f] = pool.targets;
    expect(pool.pick(T0, new Set())).toBe(f);
    expect(pool.pick(T0, new Set([f]))).toBeNull();
    f.recordCheck(false, 1, 1);
    expect(pool.pick(T0, new Set())).toBeNull();
  });

  it("counts a model as servable while any pool in its chain has a healthy target", () => {
    const r = router();
    for (const target of r.resolve("main")!.targets) target.recordFailure(T0);
    expect(r.unservableModels(T0)).toEqual([]);
    // backup has no fallbacks of its own: it is unservable, main still has `last`.
    r.resolve("backup")!.targets[0].recordCheck(false, 1, 1);
    expect(r.unservableModels(T0)).toEqual(["backup"]);
    // A rate-limited target is still healthy for readiness: every replica shares its limit.
    r.resolve("last")!.targets[0].recordRateLimited(T0, 5_000);
    expect(r.unservableModels(T0)).toEqual(["backup"]);
    expect(r.resolve("last")!.pick(T0, new Set())).toBeNull();
    r.resolve("last")!.targets[0].recordFailure(T0);
    expect(r.unservableModels(T0)).toEqual(["main", "backup", "last"]);
    expect(r.unservableModels(T0 + 1_000)).toEqual(["backup"]);
  });
});
