/** The repository root: the first directory above `from` with bench/tsconfig.json (dist/bench/ or a test's own outDir). */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, "bench", "tsconfig.json"))) return dir;
  return resolve(from, "../..");
}
