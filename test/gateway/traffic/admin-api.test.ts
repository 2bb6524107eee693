/**
 * The admin API over real HTTP with keys in a real Redis: create (the clear key returned once,
 * only its digest stored), list, disable, enable, delete, seen by a second replica; admin-key
 * checks; 501 without Redis.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hashKey } from "../../../gateway/src/auth/key-hash";
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";
import { validateConfig } from "../../../gateway/src/config/validate";
import { createTrafficControl } from "../../../gateway/src/traffic";
import type { GatewayTrafficControl } from "../../../gateway/src/traffic/traffic-control";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually, recordingLogger, recordingMetrics } from "./fakes";
import { dumpRedis } from "./redis-dump";

const ADMIN = "admin-secret-0123456789";
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

describe("admin API", () => {
  let redis: TestRedis;
  let controls: GatewayTrafficControl[] = [];
  let servers: Server[] = [];
  const logger = recordingLogger();

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await Promise.all(controls.map((c) => c.close()));
    servers = [];
    controls = [];
  });

  async function replica(input: Partial<GatewayConfigInput> = {}) {
    const config = validateConfig({ models, redis: { url: redis.url, keyPrefix: "adm:" }, auth: { adminKey: ADMIN }, plans: { free: { requestsPerMinute: 2 } }, keys: [{ name: "static", key: "sk-static-secret" }], ...input });
    const tc = createTrafficControl(config, { metrics: recordingMetrics(), logger, keyRefreshMs: 100 });
    controls.push(tc);
    await tc.ready();
    const server = createServer((req, res) => {
      if (tc.handleAdmin) void tc.handleAdmin(req, res, req.socket.remoteAddress ?? "");
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = async (method: string, path: string, body?: unknown, key = ADMIN) => {
      const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    const auth = (key: string) => Promise.resolve(tc.authenticate({ authorization: `Bearer ${key}` }, "127.0.0.1")).then((id) => id?.keyName ?? null, (err: { code: string }) => err.code);
    return { tc, call, auth };
  }

  it("refuses callers without the right admin key, with OpenAI errors", async () => {
    const a = await replica();
    expect((await a.call("GET", "/admin/keys", undefined, "wrong-admin-key-000000")).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${(servers[0].address() as AddressInfo).port}/admin/keys`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    expect((await a.call("GET", "/admin/nothing")).status).toBe(404);
    expect((await a.call("PUT", "/admin/keys")).status).toBe(405);
  });

  it("creates a key whose secret is returned once and stored only as a digest", async () => {
    const a = await replica();
    const b = await replica();
    const created = await a.call("POST", "/admin/keys", { name: "svc-1", team: "research", plan: "free", models: ["m"] });
    expect(created.status).toBe(201);
    const secret = created.json.key as string;
    expect(secret).toMatch(/^sk-gw-/);
    expect(created.json).toMatchObject({ name: "svc-1", team: "research", plan: "free", models: ["m"], disabled: false, source: "runtime" });
    // Another replica knows it at once (look-up on a snapshot miss).
    expect(await b.auth(secret)).toBe("svc-1");
    const listed = await b.call("GET", "/admin/keys");
    expect(listed.json.data.map((k: { name: string }) => k.name).sort()).toEqual(["static", "svc-1"]);
    const listText = JSON.stringify(listed.json);
    expect(listText).not.toContain(secret);
    expect(listText).not.toContain(hashKey(secret));
    const dump = await dumpRedis(redis.url);
    expect(dump).toContain(hashKey(secret));
    expect(dump).not.toContain(secret);
    expect(logger.text()).not.toContain(secret);
    // Plan limits apply to runtime keys across replicas: 2 per minute in total.
    const id = await a.tc.authenticate({ authorization: `Bearer ${secret}` }, "127.0.0.1");
    const body = { model: "m", messages: [] };
    await a.tc.admit({ identity: id, route: "chat.completions", model: "m", body, stream: false });
    const idB = await b.tc.authenticate({ authorization: `Bearer ${secret}` }, "127.0.0.1");
    await b.tc.admit({ identity: idB, route: "chat.completions", model: "m", body, stream: false });
    await expect(a.tc.admit({ identity: id, route: "chat.completions", model: "m", body, stream: false })).rejects.toMatchObject({ code: "GW_ERR_RATE_LIMITED" });
  });

  it("validates new keys and refuses duplicate or config names", async () => {
    const a = await replica();
    expect((await a.call("POST", "/admin/keys", { name: "dup" })).status).toBe(201);
    expect(await a.call("POST", "/admin/keys", { name: "dup" })).toMatchObject({ status: 409, json: { error: { code: "key_exists", param: "name" } } });
    expect((await a.call("POST", "/admin/keys", { name: "static" })).status).toBe(409);
    expect(await a.call("POST", "/admin/keys", { name: "x", plan: "gold" })).toMatchObject({ status: 400, json: { error: { param: "plan" } } });
    expect(await a.call("POST", "/admin/keys", { name: "x", models: ["nope"] })).toMatchObject({ status: 400, json: { error: { param: "models" } } });
    expect((await a.call("POST", "/admin/keys", { name: "bad name!" })).status).toBe(400);
    expect((await a.call("POST", "/admin/keys", { name: "x", limits: { requestsPerMinute: -1 } })).status).toBe(400);
    expect((await a.call("POST", "/admin/keys", { name: "x", extra: true })).status).toBe(400);
  });

  it("disables, re-enables and deletes keys; every replica follows within the refresh interval", async () => {
    const a = await replica();
    const b = await replica();
    const secret = (await a.call("POST", "/admin/keys", { name: "svc-2" })).json.key as string;
    expect(await b.auth(secret)).toBe("svc-2");
    expect(await a.call("POST", "/admin/keys/svc-2/disable")).toMatchObject({ status: 200, json: { disabled: true } });
    expect(await a.auth(secret)).toBe("GW_ERR_INVALID_API_KEY");
    await eventually(async () => (await b.auth(secret)) === "GW_ERR_INVALID_API_KEY");
    expect((await a.call("GET", "/admin/keys")).json.data.find((k: { name: string }) => k.name === "svc-2").disabled).toBe(true);
    expect((await a.call("POST", "/admin/keys/svc-2/enable")).status).toBe(200);
    await eventually(async () => (await b.auth(secret)) === "svc-2");
    expect((await a.call("DELETE", "/admin/keys/svc-2")).json).toMatchObject({ deleted: true });
    await eventually(async () => (await b.auth(secret)) === "GW_ERR_INVALID_API_KEY");
    expect((await a.call("POST", "/admin/keys/svc-2/disable")).status).toBe(404);
    expect((await a.call("POST", "/admin/keys/static/disable")).status).toBe(409);
  });

  it("answers 501 for key changes without Redis, lists config keys, and is off without an admin key", async () => {
    const tc = createTrafficControl(validateConfig({ models, auth: { adminKey: ADMIN }, keys: [{ name: "static", key: "sk-static-secret" }] }), {});
    controls.push(tc);
    const server = createServer((req, res) => void tc.handleAdmin!(req, res, req.socket.remoteAddress ?? ""));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = await fetch(`${url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ name: "x" }) });
    expect(post.status).toBe(501);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("admin_needs_redis");
    const list = await fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(((await list.json()) as { data: { name: string }[] }).data.map((k) => k.name)).toEqual(["static"]);
    const off = createTrafficControl(validateConfig({ models, keys: [{ name: "static", key: "sk-static-secret" }] }), {});
    controls.push(off);
    expect(off.handleAdmin).toBeNull();
  });
});
