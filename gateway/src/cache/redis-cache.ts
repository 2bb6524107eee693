/** Shared response cache: one Redis string per entry, expiring with PX. */
import type { Redis } from "ioredis";
import type { CachedResponse } from "../traffic/types";
import { decodeEntry, encodeEntry, type ResponseCacheStore } from "./cache-store";

export class RedisCache implements ResponseCacheStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<CachedResponse | null> {
    const raw = await this.client.getBuffer(`${this.prefix}cache:${key}`);
    return raw ? decodeEntry(raw) : null;
  }

  async set(key: string, value: CachedResponse, ttlMs: number): Promise<void> {
    await this.client.set(`${this.prefix}cache:${key}`, encodeEntry(value), "PX", ttlMs);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
