/** Shared response cache: one Redis string per entry, expiring with PX. */
import type { RedisClient } from "../store/redis-client";
import { redisKeys } from "../store/redis-keys";
import type { CachedResponse } from "../traffic/types";
import { decodeEntry, encodeEntry, type ResponseCacheStore } from "./cache-store";

export class RedisCache implements ResponseCacheStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<CachedResponse | null> {
    const raw = await this.client.getBuffer(redisKeys.cacheEntry(this.prefix, key));
    return raw ? decodeEntry(raw) : null;
  }

  async set(key: string, value: CachedResponse, ttlMs: number): Promise<void> {
    await this.client.set(redisKeys.cacheEntry(this.prefix, key), encodeEntry(value), "PX", ttlMs);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
