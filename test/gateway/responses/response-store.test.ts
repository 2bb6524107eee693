import { MemoryResponseStore } from "../../../gateway/src/responses/memory-store";
import { getOwned, type StoredResponse } from "../../../gateway/src/responses/store";
import { history, resolveReferences } from "../../../gateway/src/responses/conversation";
import { newResponseId } from "../../../gateway/src/dialects/openai-responses/ids";
import { GatewayError } from "../../../gateway/src/errors";

function record(id: string, owner: string, previousResponseId: string | null, text: string, padding = 0): StoredResponse {
  return {
    id,
    owner,
    model: "m",
    previousResponseId,
    input: [{ type: "message", id: `msg_${id.slice(5)}_in0`, role: "user", content: [{ type: "input_text", text: text + "x".repeat(padding) }] }],
    response: { id, output: [{ type: "message", id: `msg_${id.slice(5)}_0`, role: "assistant", content: [{ type: "output_text", text: `re: ${text}` }] }] },
  };
}

describe("MemoryResponseStore", () => {
  test("bounded by bytes: the least recently used go first; an entry over maxEntryBytes is not kept", async () => {
    const store = new MemoryResponseStore({ ttlMs: 60_000, maxBytes: 6_000, maxEntryBytes: 2_500 });
    const ids = Array.from({ length: 4 }, () => newResponseId());
    for (const id of ids.slice(0, 3)) expect(await store.put(record(id, "k", null, "a", 1_200))).toBe(true);
    await store.get(ids[0]); // now the most recently used
    await store.put(record(ids[3], "k", null, "a", 1_200));
    expect(store.usedBytes).toBeLessThanOrEqual(6_000);
    expect(await store.get(ids[1])).toBeNull();
    expect(await store.get(ids[0])).not.toBeNull();
    expect(await store.put(record(newResponseId(), "k", null, "a", 3_000))).toBe(false);
  });

  test("records expire after the TTL; a caller cannot change a stored record through what it read", async () => {
    let now = 1_000;
    const store = new MemoryResponseStore({ ttlMs: 500, maxBytes: 1 << 20, maxEntryBytes: 1 << 20 }, () => now);
    const id = newResponseId();
    await store.put(record(id, "k", null, "hello"));
    const read = (await store.get(id))!;
    read.owner = "attacker";
    expect((await store.get(id))!.owner).toBe("k");
    now += 501;
    expect(await store.get(id)).toBeNull();
    expect(store.size).toBe(0);
  });

  test("getOwned hides other owners' records", async () => {
    const store = new MemoryResponseStore({ ttlMs: 60_000, maxBytes: 1 << 20, maxEntryBytes: 1 << 20 });
    const id = newResponseId();
    await store.put(record(id, "alice", null, "secret"));
    expect(await getOwned(store, id, "bob")).toBeNull();
    expect(await getOwned(store, id, "")).toBeNull();
    expect((await getOwned(store, id, "alice"))!.id).toBe(id);
  });
});

describe("conversation", () => {
  const store = new MemoryResponseStore({ ttlMs: 60_000, maxBytes: 1 << 20, maxEntryBytes: 1 << 20 });
  const [a, b, c] = [newResponseId(), newResponseId(), newResponseId()];
  beforeAll(async () => {
    await store.put(record(a, "k", null, "one"));
    await store.put(record(b, "k", a, "two"));
    await store.put(record(c, "k", b, "three"));
  });

  test("follows previous_response_id back, oldest turn first, input then output", async () => {
    const items = (await history(store, "k", c, { maxBytes: 1 << 20 }))!;
    expect(items.map((i) => (i.content as { text: string }[])[0].text)).toEqual(["one", "re: one", "two", "re: two", "three", "re: three"]);
  });

  test("another owner, or a conversation over the byte bound, is a 400 on previous_response_id", async () => {
    const err = await history(store, "other", c, { maxBytes: 1 << 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).param).toBe("previous_response_id");
    const big = await history(store, "k", c, { maxBytes: 500 }).catch((e: unknown) => e);
    expect((big as GatewayError).message).toContain("too large");
  });

  test("a missing link behind the first turn: 400, or null when a native upstream may still hold it", async () => {
    const orphan = newResponseId();
    await store.put(record(orphan, "k", newResponseId(), "late"));
    await expect(history(store, "k", orphan, { maxBytes: 1 << 20 })).rejects.toBeInstanceOf(GatewayError);
    expect(await history(store, "k", orphan, { maxBytes: 1 << 20 }, true)).toBeNull();
  });

  test("item references: gateway ids resolved for their owner only; other ids left for a native upstream", async () => {
    const ref = { type: "item_reference", id: `msg_${b.slice(5)}_0` };
    const foreign = { type: "item_reference", id: "msg_abc123" };
    const resolved = await resolveReferences(store, "k", [ref, foreign]);
    expect(resolved[0]).toMatchObject({ role: "assistant", content: [{ text: "re: two" }] });
    expect(resolved[1]).toBe(foreign);
    await expect(resolveReferences(store, "intruder", [ref])).rejects.toMatchObject({ status: 400, param: "input[0].id" });
  });
});
