/**
 * The last N finished requests of this replica, for the console's "recent requests" page: a
 * fixed-size ring (no growth, O(1) per request), newest first when read. It holds metadata only,
 * never prompt or answer text.
 */
import type { RecentRequest } from "./contract";

/** As kept: the time as a number (formatted only when read, not on every request). */
export type StoredRequest = Omit<RecentRequest, "time"> & { at: number };

function view({ at, ...rest }: StoredRequest): RecentRequest {
  return { time: new Date(at).toISOString(), ...rest };
}

export class RequestRing {
  private readonly items: (StoredRequest | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<StoredRequest | undefined>(capacity);
  }

  push(item: StoredRequest): void {
    if (this.capacity === 0) return;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  /** Newest first, at most `limit`, those `filter` accepts. */
  newest(limit: number, filter: (item: StoredRequest) => boolean = () => true): RecentRequest[] {
    const out: RecentRequest[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const item = this.items[(this.next - i + this.capacity) % this.capacity]!;
      if (filter(item)) out.push(view(item));
    }
    return out;
  }
}
