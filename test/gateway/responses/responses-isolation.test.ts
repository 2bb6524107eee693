/**
 * Attack: one client key reads, continues, lists or deletes another key's stored response
 * through the public HTTP surface (GET, DELETE, input_items, previous_response_id,
 * item_reference), translated and native. Every attempt must look exactly like an unknown id
 * and leak nothing upstream; the owner's response survives. The store is a real Redis shared by
 * two replicas, so a conversation also continues on another replica.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { startTrafficGateway } from "../traffic/http-helpers";

const ALICE = { authorization: "Bearer sk-alice-0123456789abcdef" };
const BOB = { authorization: "Bearer sk-bob-0123456789abcdef00" };
const SECRET = "my bank PIN is 4921";

async function create(url: string, body: Record<string, unknown>, auth: Record<string, string>): Promise<Response> {
  return fetch(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(body) });
}

describe("stored responses belong to their key (Redis store, two replicas)", () => {
  let redis: TestRedis;
  let chatUp: MockUpstream;
  let nativeUp: MockUpstream;
  let replicas: TestGateway[];

  beforeAll(async () => {
    redis = await startRedis();
    chatUp = await MockUpstream.start("chat", { kind: "ok", tokens: 5 });
    nativeUp = await MockUpstream.start("native", { kind: "ok", tokens: 5 });
    const config = {
      redis: { url: redis.url },
      keys: [
        { name: "alice", key: ALICE.authorization.slice(7) },
        { name: "bob", key: BOB.authorization.slice(7) },
      ],
      models: [
        { name: "chat-model", targets: [{ name: "chat", baseUrl: chatUp.baseUrl }] },
        { name: "native-model", targets: [{ name: "native", baseUrl: nativeUp.baseUrl, responsesApi: "native" as const }] },
      ],
    };
    replicas = [await startTrafficGateway(config), await startTrafficGateway(config)];
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await Promise.all([chatUp.stop(), nativeUp.stop()]);
    await redis.stop();
  });

  it("another key's response is a 404 to GET, DELETE and input_items, and the owner keeps it", async () => {
    const [a, b] = replicas;
    const made = (await (await create(a.url, { model: "chat-model", input: SECRET }, ALICE)).json()) as { id: string };
    expect(made.id).toMatch(/^resp_[0-9a-f]{32}$/);
    for (const [method, path] of [["GET", `/v1/responses/${made.id}`], ["DELETE", `/v1/responses/${made.id}`], ["GET", `/v1/responses/${made.id}/input_items`]]) {
      for (const gw of replicas) {
        const res = await fetch(`${gw.url}${path}`, { method, headers: BOB });
        const text = await res.text();
        expect(res.status).toBe(404);
        expect(text).not.toContain("PIN");
        expect(JSON.parse(text).error.message).toBe(`No response found with id '${made.id}'.`);
      }
    }
    const unknown = await fetch(`${b.url}/v1/responses/resp_ffffffffffffffffffffffffffffffff`, { headers: BOB });
    expect(unknown.status).toBe(404);
    // Without a key at all: 401, not the response.
    expect((await fetch(`${b.url}/v1/responses/${made.id}`)).status).toBe(401);
    // Still there for its owner, on either replica.
    const own = await fetch(`${b.url}/v1/responses/${made.id}/input_items`, { headers: ALICE });
    expect(own.status).toBe(200);
    expect(JSON.stringify(await own.json())).toContain(SECRET);
  });

  it("another key cannot continue the conversation (previous_response_id) or pull its items (item_reference)", async () => {
    const [a, b] = replicas;
    const made = (await (await create(a.url, { model: "chat-model", input: SECRET }, ALICE)).json()) as { id: string };
    const before = chatUp.completions.length;
    const continued = await create(b.url, { model: "chat-model", input: "What did I just tell you?", previous_response_id: made.id }, BOB);
    expect(continued.status).toBe(400);
    expect(await continued.json()).toMatchObject({ error: { param: "previous_response_id", message: `Previous response with id '${made.id}' not found.` } });
    const inputItemId = `msg_${made.id.slice(5)}_in0`;
    const referenced = await create(b.url, { model: "chat-model", input: [{ type: "item_reference", id: inputItemId }, { role: "user", content: "repeat that" }] }, BOB);
    expect(referenced.status).toBe(400);
    expect(JSON.stringify(await referenced.json())).not.toContain("PIN");
    // Nothing of Alice's reached the upstream on Bob's behalf.
    expect(chatUp.completions.length).toBe(before);

    // Alice continues on the other replica: the shared store has her conversation.
    const mine = await create(b.url, { model: "chat-model", input: "What did I just tell you?", previous_response_id: made.id }, ALICE);
    expect(mine.status).toBe(200);
    expect(chatUp.completions.at(-1)!.body).toContain(SECRET);
  });

  it("a native upstream's response id cannot be continued by another key: refused before the upstream", async () => {
    const [a, b] = replicas;
    const made = (await (await create(a.url, { model: "native-model", input: SECRET }, ALICE)).json()) as { id: string };
    expect(made.id).toMatch(/^resp_[0-9a-f]{40}$/);
    const before = nativeUp.completions.length;
    const stolen = await create(b.url, { model: "native-model", input: "continue", previous_response_id: made.id }, BOB);
    expect(stolen.status).toBe(400);
    expect(nativeUp.completions.length).toBe(before);
    expect((await fetch(`${b.url}/v1/responses/${made.id}`, { headers: BOB })).status).toBe(404);
    // Alice can, and her previous_response_id goes upstream unchanged.
    const mine = await create(b.url, { model: "native-model", input: "continue", previous_response_id: made.id }, ALICE);
    expect(mine.status).toBe(200);
    expect(JSON.parse(nativeUp.completions.at(-1)!.body).previous_response_id).toBe(made.id);
  });

  it("a deleted response cannot be continued", async () => {
    const [a] = replicas;
    const made = (await (await create(a.url, { model: "chat-model", input: "hello" }, ALICE)).json()) as { id: string };
    const deleted = await fetch(`${a.url}/v1/responses/${made.id}`, { method: "DELETE", headers: ALICE });
    expect(await deleted.json()).toEqual({ id: made.id, object: "response", deleted: true });
    expect((await create(a.url, { model: "chat-model", input: "more", previous_response_id: made.id }, ALICE)).status).toBe(400);
  });
});
