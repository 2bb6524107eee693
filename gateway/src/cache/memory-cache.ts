/**
 * In-process response cache: an LRU bounded by bytes, each entry with its own expiry. A Map
 * keeps insertion order, so re-inserting on a hit makes the first entry the least recently used.
 */
import type { CachedResponse } from "../traffic/types";
import type { ResponseCacheStore } from "./cache-store";

interface Entry {
  value: CachedResponse;
  expiresAt: number;
  bytes: number;
}

/** Fixed per-entry overhead (Map slot, objects, key string) counted against maxBytes. */
const ENTRY_OVERHEAD = 200;

export class MemoryCache implements ResponseCacheStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): Promise<CachedResponse | null> {
    return Promise.resolve(this.getSync(key));
  }

  getSync(key: string): CachedResponse | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.bytes -= entry.bytes;
      return null;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: CachedResponse, ttlMs: number): Promise<void> {
    this.setSync(key, value, ttlMs);
    return Promise.resolve();
  }

  setSync(key: string, value: CachedResponse, ttlMs: number): void {
    const bytes = value.body.length + value.contentType.length + key.length + ENTRY_OVERHEAD;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    // An entry larger than the whole cache is not worth evicting everything for.
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
    return Promise.resolve();
  }
}
