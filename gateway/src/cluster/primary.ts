/**
 * Multi-process mode, the primary: forks N workers that share the listening port (node:cluster;
 * each worker accepts from the shared socket), restarts a worker that dies with
 * a growing delay (./restart-backoff.ts), answers the workers' `/metrics` with every worker's
 * figures aggregated (./cluster-metrics.ts), and on SIGTERM/SIGINT has every worker drain (each
 * finishes its in-flight requests and streams within server.shutdownGraceMs) and exits once all
 * have: 0 when every worker drained cleanly. A worker that fails before any worker ever listened
 * is a failed start (port taken, Redis config): the primary stops the others and exits 1.
 * The primary serves no request itself.
 */
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../log";
import { ClusterMetrics } from "./cluster-metrics";
import { isClusterMessage, type ClusterMetricsResponse } from "./messages";
import { RestartBackoff, type BackoffPolicy } from "./restart-backoff";
import { WORKER_COUNT_ENV } from "./group-size";

export interface PrimaryOptions {
  workers: number;
  /** server.shutdownGraceMs: how long workers may drain; they are killed this + 10 s after SIGTERM. */
  graceMs: number;
  logger: Logger;
  backoff?: BackoffPolicy;
}

/** The environment variable that tells a worker its slot (0..N-1), kept across restarts. */
export const WORKER_INDEX_ENV = "AIGW_WORKER_INDEX";

const KILL_MARGIN_MS = 10_000;

export function runPrimary(options: PrimaryOptions): void {
  const { logger } = options;
  // The workers accept from the shared socket themselves (unless NODE_CLUSTER_SCHED_POLICY says
  // otherwise): with Node's default round-robin the primary accepts and hands each connection
  // over, and one handed to a worker at the instant it dies is never answered (measured: the
  // client hangs). Accepting in the workers, a dying worker's queue stays with its siblings, and
  // the primary stays out of the data path (no accept or IPC per connection).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  const metrics = new ClusterMetrics();
  const backoff = new RestartBackoff(options.backoff);
  const startedAt = new Map<Worker, number>();
  const slotOf = new Map<Worker, number>();
  const listening = new Set<number>();
  const restartTimers = new Set<NodeJS.Timeout>();
  /** Workers that were still starting when a SIGHUP came: they get it once they listen. */
  const hangupOnListening = new Set<Worker>();
  let everReady = false;
  let stopping = false;
  let failedStart = false;
  let unclean = 0;

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  const fork = (slot: number): void => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot), [WORKER_COUNT_ENV]: String(options.workers) });
    startedAt.set(worker, Date.now());
    slotOf.set(worker, slot);
    worker.on("message", (message: unknown) => void onMessage(worker, message));
  };

  const onMessage = async (worker: Worker, message: unknown): Promise<void> => {
    if (!isClusterMessage(message)) return;
    if (message.type === "aigw:local-metrics-res") return metrics.onWorkerMessage(message);
    if (message.type !== "aigw:cluster-metrics-req") return;
    let reply: ClusterMetricsResponse;
    try {
      const { contentType, body } = await metrics.render(live());
      reply = { type: "aigw:cluster-metrics-res", id: message.id, contentType, body };
    } catch (err) {
      reply = { type: "aigw:cluster-metrics-res", id: message.id, contentType: "text/plain", body: "", error: err instanceof Error ? err.message : String(err) };
    }
    if (!worker.isDead()) worker.send(reply, () => undefined);
  };

  cluster.on("listening", (worker, address) => {
    const slot = slotOf.get(worker) ?? -1;
    listening.add(slot);
    if (hangupOnListening.delete(worker)) worker.process.kill("SIGHUP");
    if (everReady || listening.size < options.workers) return;
    everReady = true;
    const host = address.address === null || address.address === "0.0.0.0" || address.address === "::" ? "127.0.0.1" : address.address;
    logger.info({ event: "cluster_ready", workers: options.workers, pid: process.pid, url: `http://${host}:${address.port}` }, `${options.workers} workers listening`);
  });

  cluster.on("exit", (worker, code, signal) => {
    const slot = slotOf.get(worker) ?? -1;
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    slotOf.delete(worker);
    hangupOnListening.delete(worker);
    void metrics.retire(worker);
    listening.delete(slot);
    if (stopping || failedStart) {
      // A worker still starting when the signal came dies by it before its drain handler exists: not a failure.
      if (code !== 0 && signal !== "SIGTERM") unclean++;
      if (live().length === 0) finish();
      return;
    }
    if (!everReady) {
      failedStart = true;
      logger.error({ event: "cluster_start_failed", worker: slot, code, signal }, "a worker failed to start: stopping");
      for (const other of live()) other.process.kill("SIGTERM");
      if (live().length === 0) finish();
      return;
    }
    metrics.restarts.inc();
    const delayMs = backoff.onCrash(lived);
    logger.error({ event: "worker_exited", worker: slot, pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delayMs, crashesInARow: backoff.crashesInARow }, "worker exited unexpectedly: restarting it");
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!stopping) fork(slot);
    }, delayMs);
    restartTimers.add(timer);
  });

  const finish = (): void => {
    const code = failedStart || unclean > 0 ? 1 : 0;
    logger.info({ event: "cluster_stopped", code }, "all workers stopped");
    logger.flush();
    process.exit(code);
  };

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers.clear();
    const workers = live();
    logger.info({ event: "cluster_draining", signal, workers: workers.length, graceMs: options.graceMs }, "draining every worker");
    // Each worker drains on its own signal handler; one sent twice (to the group and by us) is ignored.
    for (const worker of workers) worker.process.kill("SIGTERM");
    if (workers.length === 0) finish();
    const killer = setTimeout(() => {
      for (const worker of live()) {
        logger.error({ event: "worker_killed", pid: worker.process.pid }, "worker did not drain in time: killed");
        worker.process.kill("SIGKILL");
      }
    }, options.graceMs + KILL_MARGIN_MS);
    killer.unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Config reload: each worker reloads its own config on SIGHUP (and watches the file itself). A
  // worker still starting may not handle the signal yet (its default action ends the process):
  // it gets it once it listens, in case it read the file before the change.
  process.on("SIGHUP", () => {
    for (const worker of live()) {
      if (listening.has(slotOf.get(worker) ?? -1)) worker.process.kill("SIGHUP");
      else hangupOnListening.add(worker);
    }
  });

  logger.info({ event: "cluster_starting", workers: options.workers, pid: process.pid }, `starting ${options.workers} workers`);
  for (let slot = 0; slot < options.workers; slot++) fork(slot);
}
