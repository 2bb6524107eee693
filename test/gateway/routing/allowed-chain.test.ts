/**
 * A key's allowed models cut a pool's chain once: the same key and chain give the same array
 * (per-chain work such as budget pricing is then found again), with only the allowed models, in order.
 */
import { chainAllowed } from "../../../gateway/src/routing/allowed-chain";

describe("chainAllowed", () => {
  const chain = [{ name: "primary" }, { name: "cheap" }, { name: "backup" }];

  it("keeps the allowed models in chain order and answers the same array for the same key and chain", () => {
    const allowed = new Set(["backup", "primary"]);
    const first = chainAllowed(chain, allowed);
    expect(first.map((p) => p.name)).toEqual(["primary", "backup"]);
    expect(chainAllowed(chain, allowed)).toBe(first);
  });

  it("cuts anew for another key's set or another chain (a reload makes new ones)", () => {
    const allowed = new Set(["cheap"]);
    const other = new Set(["cheap"]);
    const reloaded = chain.map((p) => ({ ...p }));
    expect(chainAllowed(chain, allowed).map((p) => p.name)).toEqual(["cheap"]);
    expect(chainAllowed(chain, other)).not.toBe(chainAllowed(chain, allowed));
    expect(chainAllowed(reloaded, allowed)).not.toBe(chainAllowed(chain, allowed));
    expect(chainAllowed(reloaded, allowed)[0]).toBe(reloaded[1]);
    expect(chainAllowed(chain, new Set(["none"]))).toEqual([]);
  });
});
