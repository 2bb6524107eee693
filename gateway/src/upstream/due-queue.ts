/**
 * Timeouts of one fixed duration (a target's wait for response headers) without a Node Timeout
 * per request. Entries added with the same duration fall due in the order they were added, so
 * they form a FIFO list, linked through the entries themselves, and one Node timer armed for the
 * oldest serves them all. Removing an entry (its attempt settled: the usual end) is O(1) and
 * allocates nothing; a Node Timeout per attempt cost ~170-216 bytes and ~90 ns more
 * (bench/results/hot-path-2026-11-30.md). The timer may outlive the entry it was armed for: it
 * then fires, finds the next entry not yet due, and is armed again for it (at most once per
 * duration's worth of time, not per request).
 */

/** What a DueQueue links; the fields are the queue's own (an entry is in at most one queue). */
export interface DueEntry {
  dueAt: number;
  duePrev: DueEntry | null;
  dueNext: DueEntry | null;
  dueQueue: DueQueue | null;
  /** Its time came (performance.now() ≥ dueAt); it is already out of the queue. */
  onDue(): void;
}

export class DueQueue {
  private head: DueEntry | null = null;
  private tail: DueEntry | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly ms: number) {}

  /** Adds `entry`, due `ms` from now. */
  add(entry: DueEntry): void {
    entry.dueAt = performance.now() + this.ms;
    entry.dueQueue = this;
    entry.duePrev = this.tail;
    entry.dueNext = null;
    if (this.tail === null) this.head = entry;
    else this.tail.dueNext = entry;
    this.tail = entry;
    if (this.timer === null) this.arm(this.ms);
  }

  /** Takes `entry` out (no-op when it is not in this queue). */
  remove(entry: DueEntry): void {
    if (entry.dueQueue !== this) return;
    const prev = entry.duePrev;
    const next = entry.dueNext;
    if (prev === null) this.head = next;
    else prev.dueNext = next;
    if (next === null) this.tail = prev;
    else next.duePrev = prev;
    entry.duePrev = entry.dueNext = null;
    entry.dueQueue = null;
  }

  /** Entries waiting (tests). */
  get size(): number {
    let n = 0;
    for (let e = this.head; e !== null; e = e.dueNext) n++;
    return n;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(fire, ms, this);
    // Whatever an entry waits for (a socket, an in-process mock) holds the event loop itself.
    this.timer.unref();
  }

  /** @internal the timer's callback */
  fired(): void {
    this.timer = null;
    const now = performance.now();
    for (let entry = this.head; entry !== null && entry.dueAt <= now; entry = this.head) {
      this.remove(entry);
      entry.onDue();
    }
    // Node's clock may run a little behind performance.now(): an entry not yet due is waited for.
    const head = this.head;
    if (head !== null && this.timer === null) this.arm(Math.max(1, Math.ceil(head.dueAt - performance.now())));
  }
}

function fire(queue: DueQueue): void {
  queue.fired();
}

/** One queue per duration (targets' timeouts: a handful of distinct values). */
const queues = new Map<number, DueQueue>();

export function dueQueueFor(ms: number): DueQueue {
  let queue = queues.get(ms);
  if (queue === undefined) {
    queue = new DueQueue(ms);
    queues.set(ms, queue);
  }
  return queue;
}
