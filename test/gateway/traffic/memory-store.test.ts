/** The in-process store: all-or-nothing admission, settlement, concurrency and spend. */
import { MemoryStore } from "../../../gateway/src/limits/memory-store";
import type { AdmitInput } from "../../../gateway/src/limits/store";

describe("MemoryStore", () => {
  let now = 1_000_000;
  let store: MemoryStore;
  beforeEach(() => {
    now = 1_000_000;
    store = new MemoryStore(() => now);
  });
  afterEach(() => store.close());

  const input = (tokens: number, extra: Partial<AdmitInput> = {}): AdmitInput => ({
    budgets: [],
    rates: [
      { key: "rpm", limit: 5, periodMs: 60_000, cost: 1 },
      { key: "tpm", limit: 100, periodMs: 60_000, cost: tokens },
    ],
    concurrency: null,
    ...extra,
  });

  it("refuses on one limit without consuming the others", async () => {
    const big = await store.admit(input(150));
    expect(big).toMatchObject({ allowed: false, failed: { kind: "rate", index: 1 }, retryAfterMs: -1 });
    // The refused request did not take a request slot: five more still fit.
    for (let i = 0; i < 5; i++) expect((await store.admit(input(1))).allowed).toBe(true);
    const sixth = await store.admit(input(1));
    expect(sixth).toMatchObject({ allowed: false, failed: { kind: "rate", index: 0 } });
    expect(sixth.rates[1].remaining).toBe(95);
  });

  it("reports remaining and reset per limit", async () => {
    const result = await store.admit(input(30));
    expect(result.rates).toEqual([
      { remaining: 4, resetMs: 12_000 },
      { remaining: 70, resetMs: 18_000 },
    ]);
    expect(result.store).toBe(store);
  });

  it("settles a token reservation to the real usage", async () => {
    await store.admit(input(80));
    expect((await store.admit(input(30))).allowed).toBe(false);
    await store.settle({ rates: [{ key: "tpm", limit: 100, periodMs: 60_000, delta: -60 }], concurrency: null, spends: [] });
    const after = await store.admit(input(30));
    expect(after.allowed).toBe(true);
    expect(after.rates[1].remaining).toBe(50);
  });

  it("holds concurrency slots until released", async () => {
    const conc = (id: string) => ({ budgets: [], rates: [], concurrency: { key: "c", limit: 2, leaseId: id } });
    expect((await store.admit(conc("a"))).allowed).toBe(true);
    expect((await store.admit(conc("b"))).allowed).toBe(true);
    expect(await store.admit(conc("c"))).toMatchObject({ allowed: false, failed: { kind: "concurrency", index: 0 }, retryAfterMs: 1000 });
    await store.settle({ rates: [], concurrency: { key: "c", leaseId: "a" }, spends: [] });
    expect((await store.admit(conc("d"))).allowed).toBe(true);
  });

  it("expires a slot whose release never comes after leaseMaxMs, and a release frees only its own lease", async () => {
    const leased = new MemoryStore(() => now, { leaseMaxMs: 60_000 });
    const conc = (id: string) => ({ budgets: [], rates: [], concurrency: { key: "c", limit: 1, leaseId: id } });
    expect((await leased.admit(conc("lost"))).allowed).toBe(true);
    now += 59_999;
    expect((await leased.admit(conc("x"))).allowed).toBe(false);
    now += 1;
    expect((await leased.admit(conc("y"))).allowed).toBe(true);
    // A late (or repeated) release of the expired lease does not free y's slot.
    await leased.settle({ rates: [], concurrency: { key: "c", leaseId: "lost" }, spends: [] });
    expect((await leased.admit(conc("z"))).allowed).toBe(false);
    await leased.settle({ rates: [], concurrency: { key: "c", leaseId: "y" }, spends: [] });
    leased.sweep();
    expect(leased.size).toBe(0);
    await leased.close();
  });

  it("refuses once spend reaches the budget, and spend expires with its TTL", async () => {
    const budget = { budgets: [{ key: "s", limitNano: 1_000 }], rates: [], concurrency: null };
    expect(await store.admit(budget)).toMatchObject({ allowed: true, spentNano: [0] });
    expect(await store.settle({ rates: [], concurrency: null, spends: [{ key: "s", addNano: 600, ttlMs: 10_000 }] })).toEqual({ spentNano: [600] });
    expect(await store.settle({ rates: [], concurrency: null, spends: [{ key: "s", addNano: 400, ttlMs: 10_000 }] })).toEqual({ spentNano: [1000] });
    expect(await store.admit(budget)).toMatchObject({ allowed: false, failed: { kind: "budget", index: 0 }, retryAfterMs: -1, spentNano: [1000] });
    now += 10_001;
    expect(await store.admit(budget)).toMatchObject({ allowed: true, spentNano: [0] });
  });

  it("holds every outstanding reservation against the budget, exactly, as thousands come and go", async () => {
    const reserve = (leaseId: string, reserveNano: number) => store.admitSync({ budgets: [{ key: "b", limitNano: 1_000_000, reserveNano }], rates: [], concurrency: null, leaseId });
    const release = (leaseId: string, reserveNano: number) => store.settleSync({ rates: [], concurrency: null, spends: [], reservations: [{ key: "b", leaseId, reserveNano }] });
    const held = new Map<string, number>();
    let x = 11;
    for (let i = 0; i < 5_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const open = [...held.keys()];
      if (open.length > 0 && x % 3 === 0) {
        const leaseId = open[x % open.length];
        release(leaseId, held.get(leaseId)!);
        held.delete(leaseId);
        continue;
      }
      const nano = 1 + (x % 900);
      const heldNow = [...held.values()].reduce((a, b) => a + b, 0);
      const result = reserve(`l${i}`, nano);
      // Admitted exactly while what is held plus this reservation fits; the store reports what others hold.
      expect(result.allowed).toBe(heldNow + nano <= 1_000_000);
      expect(result.heldNano).toEqual([heldNow]);
      if (result.allowed) held.set(`l${i}`, nano);
    }
    release("never-reserved", 5);
    for (const [leaseId, nano] of held) release(leaseId, nano);
    expect(store.size).toBe(0);
    expect(reserve("last", 1_000_000).allowed).toBe(true);
  });

  it("sweeps full limits and expired spend", async () => {
    await store.admit(input(10));
    await store.settle({ rates: [], concurrency: null, spends: [{ key: "s", addNano: 1, ttlMs: 1_000 }] });
    expect(store.size).toBe(3);
    now += 60_001;
    store.sweep();
    expect(store.size).toBe(0);
  });
});
