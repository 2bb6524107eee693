/**
 * RefusalDelay: holds are never longer than the configured maximum nor than the key's own wait,
 * and past the per-key or total caps a refusal is answered at once (a held refusal keeps a socket).
 */
import { RefusalDelay } from "../../../gateway/src/traffic/refusal-delay";

describe("RefusalDelay", () => {
  it("holds for the shorter of the maximum and the key's wait, never for a wait of 0", () => {
    const delay = new RefusalDelay({ maxDelayMs: 1_000, maxHeldPerKey: 10, maxHeldTotal: 10 });
    expect(delay.acquire("k", 5_000)).toBe(1_000);
    expect(delay.acquire("k", 250.7)).toBe(250);
    expect(delay.acquire("k", 0)).toBe(0);
    expect(delay.heldCount).toBe(2);
  });

  it("answers at once past the per-key cap, while other keys are still held", () => {
    const delay = new RefusalDelay({ maxDelayMs: 1_000, maxHeldPerKey: 2, maxHeldTotal: 100 });
    expect(delay.acquire("a", 2_000)).toBe(1_000);
    expect(delay.acquire("a", 2_000)).toBe(1_000);
    expect(delay.acquire("a", 2_000)).toBe(0);
    expect(delay.acquire("b", 2_000)).toBe(1_000);
    delay.release("a");
    expect(delay.acquire("a", 2_000)).toBe(1_000);
  });

  it("answers at once past the total cap, and frees slots on release", () => {
    const delay = new RefusalDelay({ maxDelayMs: 500, maxHeldPerKey: 100, maxHeldTotal: 3 });
    for (const key of ["a", "b", "c"]) expect(delay.acquire(key, 1_000)).toBe(500);
    expect(delay.acquire("d", 1_000)).toBe(0);
    delay.release("b");
    expect(delay.heldCount).toBe(2);
    expect(delay.acquire("d", 1_000)).toBe(500);
  });

  it("never holds when the maximum is 0", () => {
    const delay = new RefusalDelay({ maxDelayMs: 0, maxHeldPerKey: 100, maxHeldTotal: 100 });
    expect(delay.acquire("a", 10_000)).toBe(0);
    expect(delay.heldCount).toBe(0);
  });
});
