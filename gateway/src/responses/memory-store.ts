/**
 * Responses kept in process memory: an LRU bounded by the bytes of the encoded records, each
 * record expiring after the TTL, so a flood of stored responses costs at most `maxBytes`.
 * Records are kept encoded (one Buffer each): their size is known exactly and a caller cannot
 * change a stored record by mutating what it got back.
 */
import { decodeRecord, encodeRecord, type ResponseStore, type StoredResponse } from "./store";

interface Entry {
  raw: Buffer;
  expiresAt: number;
}

/** Map slot, entry object and id string, counted against maxBytes. */
const ENTRY_OVERHEAD = 200;

export class MemoryResponseStore implements ResponseStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly limits: { ttlMs: number; maxBytes: number; maxEntryBytes: number },
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Promise<StoredResponse | null> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.resolve(null);
    this.remove(id, entry);
    if (entry.expiresAt <= this.now()) return Promise.resolve(null);
    this.insert(id, entry);
    return Promise.resolve(decodeRecord(entry.raw));
  }

  put(record: StoredResponse): Promise<boolean> {
    const raw = encodeRecord(record);
    if (raw.length > this.limits.maxEntryBytes || raw.length + ENTRY_OVERHEAD > this.limits.maxBytes) return Promise.resolve(false);
    const old = this.entries.get(record.id);
    if (old !== undefined) this.remove(record.id, old);
    this.insert(record.id, { raw, expiresAt: this.now() + this.limits.ttlMs });
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.limits.maxBytes) break;
      this.remove(oldest, entry);
    }
    return Promise.resolve(true);
  }

  delete(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry === undefined) return Promise.resolve(false);
    this.remove(id, entry);
    return Promise.resolve(entry.expiresAt > this.now());
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
    return Promise.resolve();
  }

  private insert(id: string, entry: Entry): void {
    this.entries.set(id, entry);
    this.bytes += entry.raw.length + ENTRY_OVERHEAD;
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.bytes -= entry.raw.length + ENTRY_OVERHEAD;
  }
}
