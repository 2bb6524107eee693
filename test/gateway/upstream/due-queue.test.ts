/** The shared headers-wait timer (gateway/src/upstream/due-queue.ts): order, removal, one timer for many entries. */
import { DueQueue, type DueEntry } from "../../../gateway/src/upstream/due-queue";

class Entry implements DueEntry {
  dueAt = 0;
  duePrev: DueEntry | null = null;
  dueNext: DueEntry | null = null;
  dueQueue: DueQueue | null = null;
  firedAt: number | null = null;
  constructor(
    readonly name: string,
    private readonly fired: string[],
  ) {}
  onDue(): void {
    this.firedAt = performance.now();
    this.fired.push(this.name);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("DueQueue", () => {
  it("fires each entry no sooner than its duration after it was added, in the order added", async () => {
    const fired: string[] = [];
    const queue = new DueQueue(60);
    const a = new Entry("a", fired);
    const b = new Entry("b", fired);
    const addedA = performance.now();
    queue.add(a);
    await sleep(20);
    const addedB = performance.now();
    queue.add(b);
    expect(queue.size).toBe(2);
    await sleep(400);
    expect(fired).toEqual(["a", "b"]);
    expect(a.firedAt! - addedA).toBeGreaterThanOrEqual(59);
    expect(b.firedAt! - addedB).toBeGreaterThanOrEqual(59);
    // b was not fired with a: it waited for its own time.
    expect(b.firedAt! - a.firedAt!).toBeGreaterThanOrEqual(10);
    expect(queue.size).toBe(0);
    expect(a.dueQueue).toBeNull();
  });

  it("never fires a removed entry, from the head, the middle or the tail", async () => {
    const fired: string[] = [];
    const queue = new DueQueue(30);
    const entries = ["a", "b", "c", "d", "e"].map((name) => new Entry(name, fired));
    for (const entry of entries) queue.add(entry);
    queue.remove(entries[0]);
    queue.remove(entries[2]);
    queue.remove(entries[4]);
    queue.remove(entries[4]); // twice: no-op
    expect(queue.size).toBe(2);
    await sleep(300);
    expect(fired).toEqual(["b", "d"]);
  });

  it("keeps serving entries added after the queue emptied, and entries added while it fires", async () => {
    const fired: string[] = [];
    const queue = new DueQueue(25);
    const first = new Entry("first", fired);
    queue.add(first);
    queue.remove(first);
    // The timer armed for `first` still runs: it must find `second` not yet due and wait for it.
    await sleep(10);
    const second = new Entry("second", fired);
    const addedSecond = performance.now();
    queue.add(second);
    const third = new Entry("third", fired);
    // An entry whose callback adds another (a failover's next attempt on a target of the same timeout).
    const chained = Object.assign(new Entry("chained", fired), {
      onDue(this: Entry) {
        fired.push("chained");
        queue.add(third);
      },
    });
    queue.add(chained);
    await sleep(400);
    expect(fired).toEqual(["second", "chained", "third"]);
    expect(second.firedAt! - addedSecond).toBeGreaterThanOrEqual(24);
    expect(queue.size).toBe(0);
  });
});
