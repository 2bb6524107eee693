/**
 * The benchmark harness's smoke run, end to end: compiled into its own directory (so it never
 * rewrites dist/ under other suites' spawned gateways), run with --smoke, and checked for
 * structure only — every target and case ran, every figure is a finite number, errors are
 * counted, the results files exist. No timing is ever asserted: CI machines are too noisy.
 * haproxy, redis-server and wrk are required (.ci/run installs them): without them the run
 * skips targets, and a smoke test that skips its references proves little.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CASES, DEFAULT_TARGETS, type BenchReport } from "../../bench/lib/results";

const ROOT = resolve(__dirname, "../..");
const OUT_DIR = join(ROOT, "dist", "bench-test");
const onPath = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0;

describe("benchmark harness smoke", () => {
  let resultsDir: string;
  let report: BenchReport;
  let stdout: string;

  beforeAll(() => {
    const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "bench/tsconfig.json", "--outDir", OUT_DIR], { cwd: ROOT, encoding: "utf8" });
    if (tsc.status !== 0) process.stderr.write(`[bench harness test] tsc reported problems (the files were still emitted):\n${tsc.stdout}${tsc.stderr}\n`);
    resultsDir = mkdtempSync(join(tmpdir(), "aigw-bench-results-"));
    const run = spawnSync(process.execPath, [join(OUT_DIR, "bench", "run.js"), "--smoke", "--out", resultsDir], { cwd: ROOT, encoding: "utf8", timeout: 150_000 });
    stdout = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) throw new Error(`the smoke run exited with ${run.status}:\n${stdout.slice(-4000)}`);
    const json = readdirSync(resultsDir).find((f) => f.endsWith(".json"));
    if (!json) throw new Error(`no results JSON in ${resultsDir}:\n${stdout.slice(-4000)}`);
    report = JSON.parse(readFileSync(join(resultsDir, json), "utf8")) as BenchReport;
  }, 240_000);

  afterAll(() => {
    if (resultsDir) rmSync(resultsDir, { recursive: true, force: true });
  });

  it("writes the Markdown and JSON results with the machine, versions and date", () => {
    const files = readdirSync(resultsDir);
    expect(files.filter((f) => f.endsWith(".md"))).toHaveLength(1);
    const md = readFileSync(join(resultsDir, files.find((f) => f.endsWith(".md"))!), "utf8");
    expect(md).toContain("| Target | Case | req/s | p50 ms | p99 ms |");
    expect(md).toContain("## Ratios from this run");
    expect(md).toContain("## The issue's targets");
    expect(report.smoke).toBe(true);
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.cpuModel.length).toBeGreaterThan(0);
    expect(report.versions.node).toBe(process.version);
    expect(Object.keys(report.versions)).toEqual(expect.arrayContaining(["undici", "haproxy", "wrk", "redis", "commit"]));
    expect(stdout).toContain("share these cores");
  });

  it("has the tools .ci/run installs (haproxy, redis-server, wrk): missing, the run would skip targets", () => {
    expect(["haproxy", "redis-server", "wrk"].map((bin) => ({ bin, installed: onPath(bin) }))).toEqual(["haproxy", "redis-server", "wrk"].map((bin) => ({ bin, installed: true })));
  });

  it("ran every default target, none skipped", () => {
    expect(report.targets.map((t) => t.name)).toEqual([...DEFAULT_TARGETS]);
    for (const target of report.targets) expect({ target: target.name, skipped: target.skipped }).toEqual({ target: target.name, skipped: null });
  });

  it("ran every case of every target with finite figures and counted errors", () => {
    for (const target of report.targets.filter((t) => !t.skipped)) {
      expect(target.cases.map((c) => c.case)).toEqual([...CASES]);
      for (const c of target.cases) {
        const where = `${target.name} ${c.case}`;
        expect({ where, failure: c.failure }).toEqual({ where, failure: null });
        expect(c.load).not.toBeNull();
        const load = c.load!;
        for (const value of [load.requests, load.rps, load.p50Ms, load.p99Ms, c.cpuUsPerRequest, c.mockCpuUsPerRequest, c.peakRssMb]) expect(Number.isFinite(value)).toBe(true);
        expect(load.requests).toBeGreaterThan(0);
        expect(Number.isInteger(c.errors) && c.errors >= 0).toBe(true);
        expect(c.errors).toBe(load.non2xx + load.socketErrors + load.timeouts + (c.ttfb?.errors ?? 0));
        if (c.case === "sse-1") {
          expect(c.ttfb).not.toBeNull();
          expect(Number.isFinite(c.ttfb!.p50Ms) && Number.isFinite(c.ttfb!.p99Ms)).toBe(true);
        }
      }
    }
  });

  it("exercises wrk and autocannon", () => {
    const tools = new Set(report.targets.flatMap((t) => t.cases.map((c) => c.load?.tool)));
    expect(tools.has("autocannon")).toBe(true);
    expect(tools.has("wrk")).toBe(true);
  });

  it("probes what each gateway actually does, and computes ratios and the issue's checks", () => {
    for (const target of report.targets.filter((t) => t.name.startsWith("gateway-") && !t.skipped)) {
      expect(typeof target.features).toBe("string");
    }
    const gateways = report.targets.filter((t) => t.name.startsWith("gateway-") && !t.skipped).length;
    const references = report.targets.filter((t) => ["haproxy", "direct", "bare-undici"].includes(t.name) && !t.skipped).length;
    expect(report.ratios).toHaveLength(gateways * references);
    expect(report.checks.map((c) => c.status).every((s) => ["pass", "FAIL", "n/a"].includes(s))).toBe(true);
  });

  it("leaves no process behind", () => {
    expect(existsSync(resultsDir)).toBe(true);
    const ps = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
    expect(ps.split("\n").filter((l) => l.includes(OUT_DIR))).toEqual([]);
  });
});
