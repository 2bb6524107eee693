/**
 * A pool's fallback chain cut to the models a key may use. Kept per (key's allowed set, chain):
 * both objects live as long as the key and the config, so a request of such a key gets the same
 * array each time and what is worked out per chain (budget/worst-case.ts ChainPricing) is found
 * again instead of made anew for every request.
 */
const cutByAllowed = new WeakMap<ReadonlySet<string>, WeakMap<readonly object[], readonly object[]>>();

export function chainAllowed<T extends { readonly name: string }>(chain: readonly T[], allowed: ReadonlySet<string>): readonly T[] {
  let byChain = cutByAllowed.get(allowed);
  if (byChain === undefined) cutByAllowed.set(allowed, (byChain = new WeakMap()));
  let cut = byChain.get(chain) as readonly T[] | undefined;
  if (cut === undefined) byChain.set(chain, (cut = chain.filter((p) => allowed.has(p.name))));
  return cut;
}
