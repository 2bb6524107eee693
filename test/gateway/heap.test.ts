/**
 * The process's V8 heap settings (gateway/src/heap.ts): the growing percent read from the
 * environment, and both flags real to this Node's V8 (setFlagsFromString ignores a misspelt
 * flag silently; the command line refuses it), with the semi-space flag shrinking the young
 * generation of a real process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { DEFAULT_HEAP_GROWING_PERCENT, DEFAULT_HEAP_MIN_HEADROOM_MB, growingPercentFor, heapGrowingPercentFrom, heapMinHeadroomMbFrom, NODE_HEAP_FLAGS } from "../../gateway/src/heap";

test("the growing percent defaults to 30 and takes integers 0..400 from GATEWAY_HEAP_GROWING_PERCENT", () => {
  expect(heapGrowingPercentFrom({})).toBe(DEFAULT_HEAP_GROWING_PERCENT);
  expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(30);
  expect(heapGrowingPercentFrom({ GATEWAY_HEAP_GROWING_PERCENT: " " })).toBe(30);
  expect(heapGrowingPercentFrom({ GATEWAY_HEAP_GROWING_PERCENT: "0" })).toBe(0);
  expect(heapGrowingPercentFrom({ GATEWAY_HEAP_GROWING_PERCENT: "100" })).toBe(100);
  for (const bad of ["-1", "401", "12.5", "lots", "0x10"]) {
    expect(() => heapGrowingPercentFrom({ GATEWAY_HEAP_GROWING_PERCENT: bad })).toThrow(/GATEWAY_HEAP_GROWING_PERCENT must be an integer from 0 to 400/);
  }
});

test("node accepts both flags on its command line (a misspelt flag would exit 9)", () => {
  const flags = [...NODE_HEAP_FLAGS, `--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`];
  const run = spawnSync(process.execPath, [...flags, "-e", "0"], { encoding: "utf8" });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(spawnSync(process.execPath, ["--heap-growing-percnt=30", "-e", "0"]).status).toBe(9);
});

test("NODE_HEAP_FLAGS cap the young generation of a process that allocates hard", () => {
  // Short-lived garbage grows new space to its maximum: 3 semi-spaces' worth by default (48 MB).
  const script = `let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 1000) keep = []; }
    process.stdout.write(String(require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size));`;
  const capped = Number(execFileSync(process.execPath, [...NODE_HEAP_FLAGS, "-e", script], { encoding: "utf8" }));
  const uncapped = Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
  expect(capped).toBeLessThanOrEqual(3 * 8 * 1024 * 1024);
  expect(uncapped).toBeGreaterThan(capped);
});

test("the growing percent gives at least the minimum headroom on a small heap, and 30 % on a large one", () => {
  const MB = 1024 * 1024;
  expect(heapMinHeadroomMbFrom({})).toBe(DEFAULT_HEAP_MIN_HEADROOM_MB);
  expect(DEFAULT_HEAP_MIN_HEADROOM_MB).toBe(32);
  expect(heapMinHeadroomMbFrom({ GATEWAY_HEAP_MIN_HEADROOM_MB: "0" })).toBe(0);
  for (const bad of ["-1", "4097", "1.5", "big"]) expect(() => heapMinHeadroomMbFrom({ GATEWAY_HEAP_MIN_HEADROOM_MB: bad })).toThrow(/GATEWAY_HEAP_MIN_HEADROOM_MB must be an integer/);
  expect(growingPercentFor(20 * MB, 30, 32)).toBe(160);
  expect(growingPercentFor(200 * MB, 30, 32)).toBe(30);
  expect(growingPercentFor(1 * MB, 30, 32)).toBe(400);
  expect(growingPercentFor(20 * MB, 30, 0)).toBe(30);
});

/** Full GCs of a child holding ~20 MB live while it promotes a stream of short-lived objects. */
function fullGcsOfChurn(env: NodeJS.ProcessEnv): number {
  const heap = resolve(__dirname, "../../dist/gateway/src/heap.js");
  // A ring of 2,000 objects: each lives long enough to be promoted, then dies. The loop yields so
  // the GC observer runs (as it does between requests).
  const script = `require(${JSON.stringify(heap)}).limitHeapGrowth();
    const live = Array.from({ length: 20 * 16 }, () => new Array(8192).fill(1.5));
    const ring = new Array(2000).fill(null);
    (async () => {
      for (let i = 0; i < 1500000; i++) {
        ring[i % ring.length] = { i, payload: new Array(64).fill(i) };
        if (i % 10000 === 0) await new Promise((r) => setImmediate(r));
      }
    })();`;
  const out = execFileSync(process.execPath, ["--trace-gc", "-e", script], { encoding: "utf8", env: { ...process.env, GATEWAY_HEAP_GROWING_PERCENT: "30", ...env } });
  return out.split("\n").filter((line) => line.includes("Mark-Compact")).length;
}

test("a small live heap gets its headroom: a fraction of the full GCs that 30 % alone makes", () => {
  const percentOnly = fullGcsOfChurn({ GATEWAY_HEAP_MIN_HEADROOM_MB: "0" });
  const withHeadroom = fullGcsOfChurn({ GATEWAY_HEAP_MIN_HEADROOM_MB: "32" });
  expect(percentOnly).toBeGreaterThanOrEqual(8);
  expect(withHeadroom * 4).toBeLessThanOrEqual(percentOnly);
}, 60_000);
