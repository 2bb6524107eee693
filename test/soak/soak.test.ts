/**
 * The soak's short version for CI (`npm run soak` is the 60 s one): ~10 s of steady mixed
 * load on a real gateway process. No request may fail, the gateway must count what the
 * clients got, its log must hold no error, and open descriptors must not grow once warm.
 */
import { floorSlope, formatReport, metricValue, runSoak, slope, soakProblems, type SoakReport } from "../../soak/soak";

describe("soak (short CI version)", () => {
  let report: SoakReport;

  beforeAll(async () => {
    report = await runSoak({ durationMs: 10_000, concurrency: 16, sampleEveryMs: 1_000, warmupMs: 3_000, seed: 42 });
    console.log(formatReport(report));
  }, 60_000);

  it("serves a steady mixed load with zero errors, counted the same by clients and gateway", () => {
    expect(report.errorSamples).toEqual([]);
    expect(report.errors).toBe(0);
    expect(report.served.chat).toBeGreaterThan(100);
    expect(report.served.stream).toBeGreaterThan(100);
    expect(report.served.embeddings).toBeGreaterThan(50);
    expect(report.gatewayCounted200).toBe(report.served.total);
  });

  it("keeps its resources bounded and shuts down cleanly", () => {
    expect(soakProblems(report)).toEqual([]);
    expect(report.samples.length).toBeGreaterThanOrEqual(8);
    // Generous bounds for a shared CI machine: a leak or a blocked loop blows far past them.
    expect(report.rss.maxMB).toBeLessThan(512);
    expect(report.eventLoopDelayP99Ms.median).toBeLessThan(250);
    expect(report.gatewayExitCode).toBe(0);
  });

  it("computes its figures correctly (slope, metric parsing)", () => {
    expect(slope([[0, 1], [1, 3], [2, 5]])).toBeCloseTo(2);
    expect(slope([[0, 7]])).toBe(0);
    const text = 'process_open_fds 42\naigw_requests_total{route="a",status="200"} 3\naigw_requests_total{route="b",status="200"} 4\naigw_requests_total{route="b",status="502"} 9\n';
    expect(metricValue(text, "process_open_fds")).toBe(42);
    expect(metricValue(text, "aigw_requests_total", (labels) => labels.includes('status="200"'))).toBe(7);
    expect(metricValue(text, "missing")).toBeNaN();
    // A sawtooth with a flat floor has no floor slope; a rising floor does.
    const saw: [number, number][] = Array.from({ length: 16 }, (_, i) => [i, 100 + (i % 4) * 20]);
    expect(floorSlope(saw)).toBeCloseTo(0);
    expect(floorSlope(saw.map(([x, y]) => [x, y + x]))).toBeGreaterThan(0.5);
  });
});
