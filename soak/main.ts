/**
 * `npm run soak [-- --seconds N --concurrency N --json]`: a 60 s soak by default, printing a
 * progress line per sample and the report; exits 1 when a request failed or resources grew.
 */
import { formatReport, runSoak, soakProblems } from "./soak";

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

async function main(): Promise<void> {
  const seconds = flag("seconds", 60);
  const report = await runSoak({
    durationMs: seconds * 1000,
    concurrency: flag("concurrency", 32),
    sampleEveryMs: flag("sample-seconds", 2) * 1000,
    warmupMs: Math.min(15_000, seconds * 250),
    seed: flag("seed", 42),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const { samples, ...summary } = report;
  process.stdout.write(process.argv.includes("--json") ? `${JSON.stringify({ ...summary, samples }, null, 2)}\n` : `${formatReport(report)}\n`);
  const problems = soakProblems(report);
  for (const problem of problems) process.stderr.write(`FAIL: ${problem}\n`);
  process.exit(problems.length === 0 ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
