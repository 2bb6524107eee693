/**
 * Time to first byte of streams: one connection, one stream at a time, the time from dispatch
 * to the first body chunk (the first SSE event), measured with undici's dispatch handler API so
 * the client adds as little as possible. A stream counts as an error unless it answers 200 and
 * ends with `data: [DONE]`.
 */
import { Client, type Dispatcher } from "undici";
import { bodyMaker, percentile } from "./load";

export interface TtfbResult {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  /** Whole stream, dispatch to end. */
  fullP50Ms: number;
  errors: number;
}

function oneStream(client: Client, path: string, body: string, headers: string[]): Promise<{ ttfbMs: number; fullMs: number; ok: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let first = 0;
    let status = 0;
    let tail = "";
    const handler: Dispatcher.DispatchHandler = {
      // undici treats a handler without onRequestStart as a legacy (onConnect…) handler.
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        status = statusCode;
      },
      onResponseData(_controller, chunk) {
        if (first === 0) first = performance.now();
        tail = (tail + chunk.toString("latin1")).slice(-32);
      },
      onResponseEnd() {
        const end = performance.now();
        resolve({ ttfbMs: (first || end) - started, fullMs: end - started, ok: status === 200 && tail.includes("data: [DONE]") });
      },
      onResponseError() {
        resolve({ ttfbMs: NaN, fullMs: NaN, ok: false });
      },
    };
    client.dispatch({ method: "POST", path, headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 }, handler);
  });
}

/** Runs streams back to back for `durationMs` (at least `minSamples`, at most `maxSamples`). */
export async function measureTtfb(url: string, body: string, headers: Record<string, string>, durationMs: number, minSamples = 20, maxSamples = 5_000): Promise<TtfbResult> {
  const target = new URL(url);
  const client = new Client(target.origin, { pipelining: 1, keepAliveTimeout: 30_000 });
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) flat.push(name.toLowerCase(), value);
  const makeBody = bodyMaker(body);
  const ttfb: number[] = [];
  const full: number[] = [];
  let errors = 0;
  try {
    await oneStream(client, target.pathname, makeBody(), flat); // connect and warm up
    const end = performance.now() + durationMs;
    while ((performance.now() < end || ttfb.length + errors < minSamples) && ttfb.length + errors < maxSamples) {
      const sample = await oneStream(client, target.pathname, makeBody(), flat);
      if (!sample.ok) {
        errors++;
        continue;
      }
      ttfb.push(sample.ttfbMs);
      full.push(sample.fullMs);
    }
  } finally {
    await client.destroy();
  }
  ttfb.sort((a, b) => a - b);
  full.sort((a, b) => a - b);
  return { samples: ttfb.length, p50Ms: percentile(ttfb, 50), p99Ms: percentile(ttfb, 99), fullP50Ms: percentile(full, 50), errors };
}
