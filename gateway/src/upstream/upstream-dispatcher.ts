/** What sends a request upstream: an undici Pool, the in-process mock, or the fresh-connection retry's dispatcher. */
import type { Dispatcher } from "undici";

export interface UpstreamDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
}
