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
  expect(DEFAULT_HEAP_MIN_HEADROOM_MB).toBe(0);
  expect(heapMinHeadroomMbFrom({ GATEWAY_HEAP_MIN_HEADROOM_MB: "32" })).toBe(32);
  for (const bad of ["-1", "4097", "1.5", "big"]) expect(() => heapMinHeadroomMbFrom({ GATEWAY_HEAP_MIN_HEADROOM_MB: bad })).toThrow(/GATEWAY_HEAP_MIN_HEADROOM_MB must be an integer/);
  expect(growingPercentFor(20 * MB, 30, 32)).toBe(160);
  expect(growingPercentFor(200 * MB, 30, 32)).toBe(30);
  expect(growingPercentFor(1 * MB, 30, 32)).toBe(400);
  expect(growingPercentFor(20 * MB, 30, 0)).toBe(30);
});

/**
 * The percent a child process ends up with after full GCs, first with a small live heap, then
 * with a large one: the observer must recompute it from the heap each full GC leaves. Full GCs
 * are forced (gc()), so this does not hang on when V8 would choose to run them; how many fewer
 * full GCs the headroom makes under load is the benchmark's to measure (bench/gc-work.sh).
 */
function appliedAfterFullGcs(env: NodeJS.ProcessEnv): { small: number; large: number } {
  const heap = resolve(__dirname, "../../dist/gateway/src/heap.js");
  const script = `const heap = require(${JSON.stringify(heap)});
    heap.limitHeapGrowth();
    const turn = () => new Promise((r) => setTimeout(r, 50));
    (async () => {
      globalThis.live = Array.from({ length: 20 * 16 }, () => new Array(8192).fill(1.5)); // ~20 MB
      gc(); await turn();
      const small = heap.heapGrowingPercentApplied();
      globalThis.live = Array.from({ length: 200 * 16 }, () => new Array(8192).fill(1.5)); // ~200 MB
      gc(); await turn();
      process.stdout.write(JSON.stringify({ small, large: heap.heapGrowingPercentApplied() }));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ["--expose-gc", "-e", script], { encoding: "utf8", env: { ...process.env, GATEWAY_HEAP_GROWING_PERCENT: "30", ...env } })) as { small: number; large: number };
}

test("after each full GC the percent follows the live heap: the headroom on a small one, 30 % on a large one", () => {
  const withHeadroom = appliedAfterFullGcs({ GATEWAY_HEAP_MIN_HEADROOM_MB: "32" });
  // 32 MB over a ~20 MB heap is ~160 %; over ~200 MB, 16 %: the 30 % floor holds.
  expect(withHeadroom.small).toBeGreaterThanOrEqual(120);
  expect(withHeadroom.small).toBeLessThanOrEqual(200);
  expect(withHeadroom.large).toBe(30);
  expect(appliedAfterFullGcs({ GATEWAY_HEAP_MIN_HEADROOM_MB: "0" })).toEqual({ small: 30, large: 30 });
}, 60_000);
