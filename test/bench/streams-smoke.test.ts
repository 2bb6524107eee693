/**
 * The stream benchmark end to end, small: compiled into its own directory, 60 streams of 3 events
 * 50 ms apart straight to the mock and through the gateway, then an overload round. Checked for
 * structure and for what must hold at any speed: every stream accounted for, none lost at this
 * size, the results written. No timing is asserted.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { OUTCOMES } from "../../bench/lib/stream-outcomes";
import type { StreamCaseResult } from "../../bench/lib/streams-report";

const ROOT = resolve(__dirname, "../..");
const OUT_DIR = join(ROOT, "dist", "bench-streams-test");

describe("stream benchmark smoke", () => {
  let resultsDir: string;
  let results: StreamCaseResult[];
  let markdown: string;

  beforeAll(() => {
    const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "bench/tsconfig.json", "--outDir", OUT_DIR], { cwd: ROOT, encoding: "utf8" });
    if (tsc.status !== 0) process.stderr.write(`[stream bench test] tsc reported problems (the files were still emitted):\n${tsc.stdout}${tsc.stderr}\n`);
    resultsDir = mkdtempSync(join(tmpdir(), "aigw-streams-results-"));
    const args = ["--targets", "direct,gateway-full-memory", "--streams", "60", "--rate", "600", "--events", "3", "--interval", "50", "--overload-events", "4", "--sustained-seconds", "1", "--sustained-rate", "200", "--out", resultsDir];
    const run = spawnSync(process.execPath, [join(OUT_DIR, "bench", "streams.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 200_000 });
    const output = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) throw new Error(`the stream benchmark exited with ${run.status}:\n${output.slice(-4000)}`);
    const files = readdirSync(resultsDir);
    results = (JSON.parse(readFileSync(join(resultsDir, files.find((f) => f.endsWith(".json"))!), "utf8")) as { results: StreamCaseResult[] }).results;
    markdown = readFileSync(join(resultsDir, files.find((f) => f.endsWith(".md"))!), "utf8");
  }, 240_000);

  afterAll(() => {
    if (resultsDir) rmSync(resultsDir, { recursive: true, force: true });
  });

  it("ran the held case on both targets and the overload and sustained cases on the gateway", () => {
    expect(results.map((r) => `${r.target}/${r.case}`)).toEqual(["direct/held", "gateway-full-memory/held", "gateway-full-memory/overload", "gateway-full-memory/sustained"]);
    expect(results[3].streams).toBe(200);
    expect(markdown).toContain("- sustained overload through the gateway: ");
  });

  it("accounts for every stream, and loses none at this size", () => {
    for (const r of results) {
      const total = OUTCOMES.reduce((sum, o) => sum + r.client.counts[o], 0);
      expect(total).toBe(r.streams);
      expect(r.lost).toBe(0);
    }
    const held = results.filter((r) => r.case === "held");
    for (const r of held) expect(r.client.counts.complete).toBe(60);
  });

  it("reports finite CPU per event and memory, and the gateway's own gauges", () => {
    for (const r of results) {
      expect(Number.isFinite(r.cpuUsPerEvent)).toBe(true);
      expect(r.peakRssMb).toBeGreaterThan(0);
      expect(r.client.events).toBeGreaterThan(0);
    }
    expect(results[1].gauges?.heapUsedMb).toBeGreaterThan(0);
    expect(markdown).toContain("| gateway-full-memory | held | 60 |");
  });
});
