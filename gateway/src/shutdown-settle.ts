/**
 * The last step of a drain before the stores close: every admitted request must have ended (and
 * so sent its settlement) first. Its client connection is gone by then, so each ends within a few
 * turns, except one still waiting for Redis to answer its admission: that one ends when Redis
 * answers (or its command times out). The wait is bounded so a stuck store cannot hold the pod
 * past its termination grace (infra/builders/shutdown.ts keeps a margin for it).
 */

/** At most this long after the connections close; within the pod's shutdown margin. */
export const SETTLE_WAIT_MS = 5_000;

const POLL_MS = 10;

/** Resolves with how many requests are still in flight: 0 once all ended, more when `maxMs` ran out. */
export async function untilNoneInFlight(requests: { readonly inFlight: number }, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  while (requests.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  return requests.inFlight;
}
