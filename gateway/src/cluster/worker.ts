/**
 * Multi-process mode, the worker's side: answers the primary's requests for this worker's
 * metrics, serves `/metrics` with the primary's aggregate of every worker, and logs through a
 * destination whose every write is whole lines of at most PIPE_BUF bytes, so lines from several
 * workers sharing one stdout never interleave (see `workerLogDestination`).
 */
import type { DestinationStream } from "pino";
import { LineSink } from "../log-sink";
import type { GatewayMetrics } from "../metrics/registry";
import { isClusterMessage, type ClusterMetricsResponse, type MetricsJson } from "./messages";

/**
 * Linux's PIPE_BUF: a write of at most this many bytes to a pipe is atomic (never split, never
 * mixed with another writer's), and regular files shared by the workers take each write whole.
 */
export const ATOMIC_WRITE_BYTES = 4096;

/**
 * The workers' log destination: the batched writer one process uses (../log-sink.ts) with
 * chunks of ATOMIC_WRITE_BYTES, so each write is whole lines and at most that long. A single
 * line longer than that (never an access-log line; possibly an error with a long stack) is
 * written alone and may be split by a pipe.
 */
export function workerLogDestination(fd = 1): DestinationStream {
  return new LineSink({ fd, chunkBytes: ATOMIC_WRITE_BYTES });
}

const METRICS_TIMEOUT_MS = 5_000;

/** Wires a started worker's metrics to the primary. */
export function connectWorkerMetrics(metrics: GatewayMetrics): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error("connectWorkerMetrics: not a cluster worker (no IPC channel)");
  let nextId = 1;
  const waiting = new Map<number, (reply: ClusterMetricsResponse) => void>();

  process.on("message", (message: unknown) => {
    if (!isClusterMessage(message)) return;
    if (message.type === "aigw:local-metrics-req") {
      void metrics.localJson().then(
        (json) => send({ type: "aigw:local-metrics-res", id: message.id, metrics: json as MetricsJson }),
        () => send({ type: "aigw:local-metrics-res", id: message.id, metrics: [] }),
      );
    } else if (message.type === "aigw:cluster-metrics-res") {
      waiting.get(message.id)?.(message);
    }
  });

  metrics.renderWith(
    () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error("the cluster primary did not answer with metrics"));
        }, METRICS_TIMEOUT_MS);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (reply.error) reject(new Error(`cluster metrics: ${reply.error}`));
          else resolve({ contentType: reply.contentType, body: reply.body });
        });
        send({ type: "aigw:cluster-metrics-req", id });
      }),
  );
}
