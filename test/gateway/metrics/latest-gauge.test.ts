/**
 * A gauge whose sets are applied when it is read (metrics/latest-gauge.ts): what a scrape shows
 * is what prom-client's own set would show: the last value of each label set, whichever label
 * object carried it, nothing for a series removed since, and a wrong label or value still throws
 * at the call.
 */
import { Gauge, Registry } from "prom-client";
import { deferGaugeSets } from "../../../gateway/src/metrics/latest-gauge";
import { seededRandom } from "../../helpers/seeded-random";

function gauges(): { deferred: Gauge<string>; plain: Gauge<string>; deferredRegistry: Registry; plainRegistry: Registry } {
  const deferredRegistry = new Registry();
  const plainRegistry = new Registry();
  const config = { name: "ratio", help: "h", labelNames: ["key", "team"] };
  return {
    deferred: deferGaugeSets(new Gauge({ ...config, registers: [deferredRegistry] })),
    plain: new Gauge({ ...config, registers: [plainRegistry] }),
    deferredRegistry,
    plainRegistry,
  };
}

describe("a gauge set at read", () => {
  it("shows what prom-client's own set shows, over random sets, removals and reads", async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const { deferred, plain, deferredRegistry, plainRegistry } = gauges();
      // Several objects for the same label values (a reloaded key builds new ones).
      const objects = Array.from({ length: 8 }, (_, i) => ({ key: `k${i % 3}`, team: `t${i % 2}` }));
      for (let step = 0; step < 60; step++) {
        const labels = objects[Math.floor(random() * objects.length)];
        const roll = random();
        if (roll < 0.75) {
          const value = Math.round(random() * 1000) / 1000;
          deferred.set(labels, value);
          plain.set(labels, value);
        } else if (roll < 0.85) {
          deferred.remove({ ...labels });
          plain.remove({ ...labels });
        } else if (roll < 0.9) {
          deferred.reset();
          plain.reset();
        } else {
          expect(await deferredRegistry.metrics()).toBe(await plainRegistry.metrics());
        }
      }
      expect({ seed, text: await deferredRegistry.metrics() }).toEqual({ seed, text: await plainRegistry.metrics() });
      expect(await deferred.get()).toEqual(await plain.get());
    }
  });

  it("still throws at the call for a wrong label name or a value that is not a number", () => {
    const { deferred } = gauges();
    expect(() => deferred.set({ nope: "x" } as never, 1)).toThrow(/label/i);
    const labels = { key: "k", team: "t" };
    deferred.set(labels, 1);
    expect(() => deferred.set(labels, "2" as never)).toThrow(TypeError);
  });

  it("applies a set without labels at once, as before", async () => {
    const registry = new Registry();
    const flag = deferGaugeSets(new Gauge({ name: "flag", help: "h", registers: [registry] }));
    flag.set(1);
    expect((await flag.get()).values).toEqual([{ value: 1, labels: {} }]);
  });
});
