/**
 * If-Match across a delete and a re-create of the same name: two admins, a real gateway, a real
 * Redis. Admin A reads key "svc" (revision 1); admin B deletes it and creates a new "svc" for
 * another team, also at revision 1. A's write based on the old key must be refused (412), not
 * applied to the new key: the ETag names the key's identity, not only its revision.
 */
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../../helpers/redis-server";

const ADMIN_KEY = "sk-admin-etag-recreated-0123456789";

describe("ETag of a key deleted and created again under its name", () => {
  let redis: TestRedis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({
      models: [
        { name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] },
        { name: "m2", targets: [{ name: "t2", baseUrl: "mock://t2" }] },
      ],
      redis: { url: redis.url, keyPrefix: `etag-recreated-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
  });

  async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; etag: string | null; json: Record<string, any> }> {
    const res = await fetch(gw.url + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, etag: res.headers.get("etag"), json: (await res.json()) as Record<string, any> };
  }

  it("refuses a write based on the old key's ETag with 412; the new key is untouched", async () => {
    expect((await admin("POST", "/admin/keys", { name: "svc", team: "search", models: ["m"] })).status).toBe(201);
    const read = await admin("GET", "/admin/keys/svc");
    expect(read.etag).not.toBeNull();

    // Meanwhile the other admin replaces the key with a new one of the same name.
    expect((await admin("DELETE", "/admin/keys/svc", undefined, { "if-match": read.etag! })).status).toBe(200);
    const created = await admin("POST", "/admin/keys", { name: "svc", team: "billing", models: ["m2"] });
    expect(created.status).toBe(201);
    expect(created.json.revision).toBe(read.json.revision);
    expect(created.etag).not.toBe(read.etag);

    const stale = await admin("PATCH", "/admin/keys/svc", { models: ["m", "m2"] }, { "if-match": read.etag! });
    expect(stale.status).toBe(412);
    expect(stale.json.error.code).toBe("revision_mismatch");
    expect((await admin("POST", "/admin/keys/svc/disable", undefined, { "if-match": read.etag! })).status).toBe(412);
    expect((await admin("DELETE", "/admin/keys/svc", undefined, { "if-match": read.etag! })).status).toBe(412);
    const now = await admin("GET", "/admin/keys/svc");
    expect(now.json).toMatchObject({ team: "billing", models: ["m2"], disabled: false, id: created.json.id });

    // The new key's own ETag works.
    const fresh = await admin("PATCH", "/admin/keys/svc", { owner: "billing@example.com" }, { "if-match": now.etag! });
    expect(fresh.status).toBe(200);
    expect(fresh.etag).not.toBe(now.etag);
  });
});
