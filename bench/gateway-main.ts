/**
 * The gateway as the benchmark runs it: the same startGateway() and process lifecycle as
 * gateway/src/main.ts (traffic control included), plus a cluster mode and a signal-driven
 * profiler; `npm run bench -- --gateway-entry main` runs the production entry point instead.
 *
 * Usage: node dist/bench/gateway-main.js --config FILE [--workers N]
 * With --workers N (N > 1) a node:cluster primary forks N workers that share the port: one
 * process per core (see bench/README.md). With BENCH_CPU_PROFILE=FILE, SIGUSR2 starts and then
 * stops a CPU profile of the steady state (bench/profile.ts drives it).
 */
import cluster from "node:cluster";
import { startGateway } from "../gateway/src/gateway";
import { limitHeapGrowth } from "../gateway/src/heap";
import { exitOnStartFailure, loadConfigOrExit, runUntilSignalled } from "../gateway/src/process-lifecycle";
import { installSignalProfiler } from "./lib/self-profiler";

function workersOf(argv: string[]): number {
  const at = argv.indexOf("--workers");
  const n = at >= 0 ? Number(argv[at + 1]) : 1;
  if (!Number.isInteger(n) || n < 1) throw new Error("--workers needs a positive integer");
  return n;
}

async function serve(): Promise<void> {
  installSignalProfiler();
  limitHeapGrowth();
  const config = loadConfigOrExit(process.argv.slice(2));
  const gateway = await startGateway(config);
  gateway.runtime.logger.info({ url: gateway.url, pid: process.pid }, "gateway listening");
  runUntilSignalled(gateway, 1_000);
}

function primary(workers: number): void {
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on("exit", (worker, code) => {
    if (!stopping) {
      process.stderr.write(`worker ${worker.process.pid} exited with ${code}\n`);
      process.exit(1);
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    const timer = setTimeout(() => process.exit(0), 3_000);
    timer.unref();
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const workers = workersOf(process.argv.slice(2));
if (workers > 1 && cluster.isPrimary) primary(workers);
else serve().catch(exitOnStartFailure);
