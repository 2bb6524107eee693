/**
 * What the console keeps of each finished request on this replica: a summary in the recent
 * requests ring and a sample in the rolling window. Fed from the access-log path (one call per
 * request, no I/O); prompt and answer text never reach it.
 */
import { RequestRing, type StoredRequest } from "./request-ring";
import { WindowStats, DEFAULT_WINDOW, type WindowOptions } from "./window-stats";

/** One finished request, as the request pipeline knows it. */
export interface FinishedRequest {
  requestId: string;
  route: string;
  /** The model the client asked for (configured names only; "" otherwise). */
  model: string;
  /** The model that answered after fallbacks ("" or the same when none). */
  servedModel: string;
  target: string | null;
  status: number;
  latencyMs: number;
  ttftMs: number | null;
  keyName: string | null;
  team: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  costUsd: number | null;
  refusal: string | null;
  errorCode: string | null;
  stream: boolean;
  cache: "HIT" | "MISS" | null;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export class ConsoleRecorder {
  readonly ring: RequestRing;
  readonly window: WindowStats;

  constructor(
    capacity: number,
    readonly startedAt: number,
    private readonly now: () => number = Date.now,
    windowOptions: WindowOptions = DEFAULT_WINDOW,
  ) {
    this.ring = new RequestRing(capacity);
    this.window = new WindowStats(startedAt, windowOptions);
  }

  record(done: FinishedRequest): void {
    const at = this.now();
    const served = done.servedModel || done.model;
    this.window.record({ at, model: done.model, targetId: done.target === null ? null : `${served}/${done.target}`, status: done.status, latencyMs: done.latencyMs, ttftMs: done.ttftMs });
    const item: StoredRequest = {
      at,
      request_id: done.requestId,
      route: done.route,
      key: done.keyName,
      team: done.team,
      model: done.model,
      served_model: served !== done.model ? served : null,
      target: done.target,
      status: done.status,
      latency_ms: round1(done.latencyMs),
      ttft_ms: done.ttftMs === null ? null : round1(done.ttftMs),
      prompt_tokens: done.promptTokens,
      completion_tokens: done.completionTokens,
      cost_usd: done.costUsd,
      refusal: done.refusal,
      error_code: done.errorCode,
      stream: done.stream,
      cache: done.cache,
    };
    this.ring.push(item);
  }
}
