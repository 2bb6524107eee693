/** Deferred counter series (gateway/src/metrics/counter-series.ts): what a scrape shows equals what plain prom-client shows. */
import { Counter, Registry } from "prom-client";
import { counterSeries } from "../../../gateway/src/metrics/counter-series";

function pair() {
  const fastRegistry = new Registry();
  const plainRegistry = new Registry();
  const labelNames = ["route", "model", "key"];
  const fast = new Counter({ name: "c_total", help: "h", labelNames, registers: [fastRegistry] });
  const plain = new Counter({ name: "c_total", help: "h", labelNames, registers: [plainRegistry] });
  return { fastRegistry, plainRegistry, fast, plain, series: counterSeries(fast, labelNames) };
}

describe("counterSeries", () => {
  it("exposes the same text as prom-client's own children, through several scrapes", async () => {
    const { fastRegistry, plainRegistry, plain, series } = pair();
    const ops: [string, string, string, number][] = [];
    for (let i = 0; i < 500; i++) ops.push([i % 3 === 0 ? "chat" : "embeddings", `m${i % 4}`, i % 5 === 0 ? "" : `k${i % 2}`, (i % 7) + 0.5]);
    for (const [n, [route, model, key, value]] of ops.entries()) {
      series(route, model, key).inc(value);
      plain.labels(route, model, key).inc(value);
      if (n % 97 === 0) expect(await fastRegistry.metrics()).toBe(await plainRegistry.metrics());
    }
    expect(await fastRegistry.metrics()).toBe(await plainRegistry.metrics());
    expect(await fastRegistry.getMetricsAsJSON()).toEqual(await plainRegistry.getMetricsAsJSON());
  });

  it("counts 1 by default, and nothing for a series that never moved since the last read", async () => {
    const { fast, series } = pair();
    series("chat", "m", "k").inc();
    series("chat", "m", "k").inc();
    series("chat", "other", "k");
    const values = (await fast.get()).values;
    expect(values).toEqual([{ labels: { route: "chat", model: "m", key: "k" }, value: 2 }]);
    expect((await fast.get()).values[0].value).toBe(2);
  });

  it("removeWhere drops matching series with their pending increments, and keeps counting the rest", async () => {
    const { fast, series } = pair();
    series("chat", "m", "gone").inc(3);
    series("chat", "m", "kept").inc(1);
    await fast.get();
    series("chat", "m", "gone").inc(5);
    series.removeWhere((values) => values[2] === "gone");
    series("chat", "m", "kept").inc(1);
    expect((await fast.get()).values).toEqual([{ labels: { route: "chat", model: "m", key: "kept" }, value: 2 }]);
    // A series made again after removal starts from zero.
    series("chat", "m", "gone").inc(1);
    expect((await fast.get()).values.find((v) => v.labels.key === "gone")?.value).toBe(1);
  });

  it("refuses what prom-client refuses: negative and non-finite increments", () => {
    const { series } = pair();
    expect(() => series("a", "b", "c").inc(-1)).toThrow("decrease");
    expect(() => series("a", "b", "c").inc(Number.NaN)).toThrow("not a valid number");
  });

  it("runs a collect the metric already had, after flushing", async () => {
    const registry = new Registry();
    const seen: number[] = [];
    const metric: Counter<string> = new Counter({
      name: "d_total",
      help: "h",
      labelNames: ["a"],
      registers: [registry],
      collect() {
        seen.push(1);
      },
    });
    const series = counterSeries(metric, ["a"]);
    series("x").inc(4);
    expect(await registry.metrics()).toContain('d_total{a="x"} 4');
    expect(seen).toHaveLength(1);
  });
});
