/**
 * How many processes share this gateway's port (its multi-process group), as the primary tells
 * each worker when it forks it. No imports: the limit store reads it too (a worker that never
 * reached Redis still knows its siblings share the limits).
 */

/** The environment variable in which the primary tells each worker how many workers it runs. */
export const WORKER_COUNT_ENV = "AIGW_WORKER_COUNT";

/** Matches MAX_WORKERS (./worker-count.ts). */
const MOST = 256;

/** The processes of this gateway's group: the worker count the primary set, else 1 (one process). */
export function processesInGroup(env: NodeJS.ProcessEnv): number {
  const count = Number(env[WORKER_COUNT_ENV]);
  return Number.isInteger(count) && count >= 1 && count <= MOST ? count : 1;
}
