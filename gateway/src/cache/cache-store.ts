/** Where cached responses live: memory (LRU, one replica) or Redis (shared). */
import type { CachedResponse } from "../traffic/types";

export interface ResponseCacheStore {
  /** The entry, or null on a miss or expiry. Redis errors surface as rejections. */
  get(key: string): Promise<CachedResponse | null>;
  set(key: string, value: CachedResponse, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Entries as bytes: `status\ncontent-type\n` then the body (Redis stores this). */
export function encodeEntry(value: CachedResponse): Buffer {
  return Buffer.concat([Buffer.from(`${value.status}\n${value.contentType}\n`), value.body]);
}

export function decodeEntry(raw: Buffer): CachedResponse | null {
  const first = raw.indexOf(10);
  const second = first < 0 ? -1 : raw.indexOf(10, first + 1);
  if (second < 0) return null;
  const status = Number(raw.subarray(0, first).toString());
  if (!Number.isInteger(status)) return null;
  return { status, contentType: raw.subarray(first + 1, second).toString(), body: raw.subarray(second + 1) };
}
