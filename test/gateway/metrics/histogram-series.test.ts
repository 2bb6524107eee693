/** Histogram series: the exposition is exactly what prom-client's own observe produces. */
import { Histogram, Registry } from "prom-client";
import { histogramSeries } from "../../../gateway/src/metrics/histogram-series";

const BUCKETS = [0.005, 0.01, 0.1, 1, 10];

function pair(labels: string[]) {
  const native = new Registry();
  const fast = new Registry();
  const a = new Histogram({ name: "h_seconds", help: "h", labelNames: labels, buckets: BUCKETS, registers: [native] });
  const b = new Histogram({ name: "h_seconds", help: "h", labelNames: labels, buckets: BUCKETS, registers: [fast] });
  return { native, fast, a, b, get: histogramSeries(b, labels) };
}

describe("histogramSeries", () => {
  it("exports the same buckets, sums and counts as prom-client's observe, read between observations", async () => {
    const { native, fast, a, get } = pair(["route", "model", "status"]);
    const values = [0, 0.005, 0.0050001, 0.01, 0.09, 0.1, 1, 9.99, 10, 10.5, 1_000, 0.3];
    const labelSets = [
      ["chat", "gpt", "ok"],
      ["chat", "gpt", "server_error"],
      ["embeddings", "", "ok"],
    ];
    for (let round = 0; round < 3; round++) {
      values.forEach((v, i) => {
        const [r, m, s] = labelSets[(i + round) % labelSets.length];
        a.labels(r, m, s).observe(v);
        get(r, m, s).observe(v);
      });
      expect(await fast.metrics()).toBe(await native.metrics());
    }
    expect(await fast.metrics()).toContain('h_seconds_bucket{le="+Inf",route="chat",model="gpt",status="ok"}');
  });

  it("adds to a series prom-client already had (labels() and the series are the same one)", async () => {
    const { native, fast, a, b, get } = pair(["model"]);
    a.labels("m").observe(0.2);
    b.labels("m").observe(0.2);
    a.labels("m").observe(3);
    get("m").observe(3);
    expect(await fast.metrics()).toBe(await native.metrics());
    expect((await b.get()).values.find((v) => v.metricName === "h_seconds_count")?.value).toBe(2);
  });

  it("drops what was pending on reset, as prom-client would, and counts again after it", async () => {
    const { native, fast, a, b, get } = pair(["model", "target"]);
    a.labels("m", "t").observe(0.5);
    get("m", "t").observe(0.5);
    a.reset();
    b.reset();
    expect(await fast.metrics()).toBe(await native.metrics());
    a.labels("m", "t").observe(0.05);
    get("m", "t").observe(0.05);
    expect(await fast.metrics()).toBe(await native.metrics());
  });

  it("refuses a value that is not a finite number, as prom-client does", () => {
    const { a, get } = pair(["model"]);
    expect(() => a.labels("m").observe(NaN)).toThrow(TypeError);
    expect(() => get("m").observe(NaN)).toThrow(TypeError);
    expect(() => get("m").observe(Infinity)).toThrow(TypeError);
  });
});

describe("histogramSeries on a prom-client with other internals", () => {
  it("falls back to the histogram's public children instead of failing", () => {
    const seen: { labels: string[]; value: number }[] = [];
    const stub = { labels: (...labels: string[]) => ({ observe: (value: number) => seen.push({ labels, value }) }) };
    const seriesFor = histogramSeries(stub as unknown as Histogram<string>, ["route", "status"]);
    seriesFor("/v1/chat/completions", "200").observe(0.25);
    expect(seen).toEqual([{ labels: ["/v1/chat/completions", "200"], value: 0.25 }]);
  });
});
