/**
 * Runs promtool (/usr/bin/promtool, Debian's prometheus package) on rule groups written to a
 * temporary directory: `check rules` for syntax and `test rules` for unit tests with synthetic
 * series. Returns promtool's exit code and output; the directory is removed afterwards.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export const PROMTOOL = process.env.PROMTOOL ?? "promtool";

export interface PromtoolResult {
  status: number | null;
  output: string;
}

function run(args: string[], cwd: string): PromtoolResult {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw new Error(`cannot run ${PROMTOOL}: ${r.error.message} (install the prometheus package)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export function withRuleFiles<T>(groups: unknown, tests: unknown | undefined, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "aigw-promtool-"));
  try {
    writeFileSync(join(dir, "rules.yaml"), stringify({ groups }, { lineWidth: 0 }));
    if (tests !== undefined) writeFileSync(join(dir, "tests.yaml"), stringify(tests, { lineWidth: 0 }));
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function checkRules(groups: unknown): PromtoolResult {
  return withRuleFiles(groups, undefined, (dir) => run(["check", "rules", "rules.yaml"], dir));
}

/** `tests` is a promtool test file body; its rule_files is set to the written rules. */
export function testRules(groups: unknown, tests: Record<string, unknown>): PromtoolResult {
  return withRuleFiles(groups, { ...tests, rule_files: ["rules.yaml"] }, (dir) => run(["test", "rules", "tests.yaml"], dir));
}
