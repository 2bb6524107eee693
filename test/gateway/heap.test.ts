/**
 * The process's V8 heap settings (gateway/src/heap.ts): the growing percent read from the
 * environment, and both flags real to this Node's V8 (setFlagsFromString ignores a misspelt
 * flag silently; the command line refuses it), with the semi-space flag shrinking the young
 * generation of a real process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { DEFAULT_HEAP_GROWING_PERCENT, heapGrowingPercentFrom, NODE_HEAP_FLAGS } from "../../gateway/src/heap";

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
