/** What forwarding a request comes to: read by the request's end (handlers/request-end.ts) and told by a stream when it is over. */
import type { Usage } from "../traffic/types";

/**
 * forward()'s answer when a stream committed: it runs on from callbacks (stream-delivery.ts) and
 * its outcome goes to `ForwardRequest.streamEnd` when it is over.
 */
export const STREAM_STARTED = "stream-started";

export interface ForwardOutcome {
  status: number;
  target: string | null;
  /** The model pool that answered (differs from the request's after a fallback). */
  servedModel: string;
  upstreamModel: string;
  attempts: number;
  usage: Usage | null;
  /**
   * Completion tokens the gateway counted in what it delivered (when asked to count); 0 when the
   * client left before any answer; null when nothing was delivered.
   */
  deliveredTokens: number | null;
  ttftMs: number | null;
  /** A non-streaming 2xx answer, for the response cache. */
  cacheable: { body: Buffer; contentType: string } | null;
  interrupted: boolean;
  clientClosed: boolean;
  /** The provider's id for the answer (its x-request-id / request-id), when it gave a sane one. */
  upstreamRequestId: string | null;
}
