/**
 * The per-turn batcher on its own: one run per event-loop turn with the items in arrival order,
 * each caller getting its own result, a cap that splits big turns, and failures that reach
 * every caller of the batch (and only that batch).
 */
import { ScriptBatcher } from "../../../gateway/src/limits/script-batcher";

const tick = () => new Promise((r) => setImmediate(r));

describe("ScriptBatcher", () => {
  it("runs the calls of one turn as one batch, in arrival order, each caller getting its own result", async () => {
    const batches: number[][] = [];
    const batcher = new ScriptBatcher<number, string>((items) => {
      batches.push([...items]);
      return Promise.resolve(items.map((n) => `r${n}`));
    });
    const first = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    expect(first).toEqual(["r1", "r2", "r3", "r4", "r5"]);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    // A lone call goes out on the next turn, in its own batch.
    expect(await batcher.submit(6)).toBe("r6");
    expect(batches).toEqual([[1, 2, 3, 4, 5], [6]]);
    expect(batcher.pending).toBe(0);
  });

  it("sends a batch as soon as it reaches the cap, keeping the order across batches", async () => {
    const batches: number[][] = [];
    const batcher = new ScriptBatcher<number, number>((items) => {
      batches.push([...items]);
      return Promise.resolve(items.map((n) => n * 10));
    }, 4);
    const submitted = Array.from({ length: 10 }, (_, i) => batcher.submit(i));
    // Two full batches already left synchronously; the rest waits for the turn to end.
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(batcher.pending).toBe(2);
    expect(await Promise.all(submitted)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it("rejects every caller of a failed batch, and only that batch", async () => {
    let fail = true;
    const batcher = new ScriptBatcher<number, number>((items) => (fail ? Promise.reject(new Error("down")) : Promise.resolve([...items])));
    const failed = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(failed.map((r) => (r as PromiseRejectedResult).reason.message)).toEqual(["down", "down", "down"]);
    fail = false;
    expect(await Promise.all([4, 5].map((n) => batcher.submit(n)))).toEqual([4, 5]);
  });

  it("rejects every caller when run throws synchronously or answers the wrong number of results", async () => {
    const throwing = new ScriptBatcher<number, number>(() => {
      throw new Error("encode failed");
    });
    const thrown = await Promise.allSettled([1, 2].map((n) => throwing.submit(n)));
    expect(thrown.map((r) => r.status === "rejected" && (r.reason as Error).message)).toEqual(["encode failed", "encode failed"]);

    const short = new ScriptBatcher<number, number>((items) => Promise.resolve(items.slice(1)));
    const mismatched = await Promise.allSettled([1, 2, 3].map((n) => short.submit(n)));
    expect(mismatched.every((r) => r.status === "rejected" && /batch of 3 answered with 2/.test((r.reason as Error).message))).toBe(true);
  });

  it("keeps calls made while a batch is in flight for the next batch", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new ScriptBatcher<number, number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await gate;
      return [...items];
    });
    const a = batcher.submit(1);
    await tick();
    expect(batches).toEqual([[1]]);
    const b = Promise.all([batcher.submit(2), batcher.submit(3)]);
    await tick();
    expect(batches).toEqual([[1], [2, 3]]);
    expect(await b).toEqual([2, 3]);
    release();
    expect(await a).toBe(1);
  });

  it("refuses a cap below one", () => {
    expect(() => new ScriptBatcher<number, number>(() => Promise.resolve([]), 0)).toThrow(RangeError);
  });
});
