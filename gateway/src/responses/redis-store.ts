/**
 * Responses kept in Redis, shared by every replica, so a conversation continues whichever
 * replica the next turn reaches: one string per response, expiring with PX (single-key commands,
 * so no hash tag: they spread over a cluster's slots).
 */
import type { RedisClient } from "../store/redis-client";
import { redisKeys } from "../store/redis-keys";
import { decodeRecord, encodeRecord, type ResponseStore, type StoredResponse } from "./store";

export class RedisResponseStore implements ResponseStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly limits: { ttlMs: number; maxEntryBytes: number },
    /** Closes the connection when the store owns it. */
    private readonly closeClient: boolean,
  ) {}

  private key(id: string): string {
    return redisKeys.storedResponse(this.prefix, id);
  }

  async get(id: string): Promise<StoredResponse | null> {
    const raw = await this.client.getBuffer(this.key(id));
    return raw === null ? null : decodeRecord(raw);
  }

  async put(record: StoredResponse): Promise<boolean> {
    const raw = encodeRecord(record);
    if (raw.length > this.limits.maxEntryBytes) return false;
    await this.client.set(this.key(record.id), raw, "PX", this.limits.ttlMs);
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.client.del(this.key(id))) > 0;
  }

  async close(): Promise<void> {
    if (this.closeClient) this.client.disconnect();
  }
}
