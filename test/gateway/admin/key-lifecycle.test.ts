/**
 * The key lifecycle through real HTTP, two gateway replicas on one real Redis, and the official
 * OpenAI SDK as the client: rotation (both secrets during the overlap, only the new one after,
 * limits carried over by the unchanged key id), expiry, a budget raise that lets a refused key
 * through again, config keys read-only, and every change in the audit log without a secret.
 */
import OpenAI from "openai";
import { validateConfig } from "../../../gateway/src/config/validate";
import { testConfig, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { eventually } from "../traffic/fakes";
import { startTrafficGateway, type GatewayInput } from "../traffic/http-helpers";
import { dumpRedis } from "../traffic/redis-dump";
import { ADMIN_KEY, adminClient } from "./admin-client";

describe("key lifecycle over HTTP", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let a: TestGateway;
  let b: TestGateway;
  const secrets: string[] = [];

  const sdk = (gw: TestGateway, apiKey: string) => new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const ask = (gw: TestGateway, apiKey: string) => sdk(gw, apiKey).chat.completions.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hello" }] });
  const outcome = (gw: TestGateway, apiKey: string) => ask(gw, apiKey).then(() => 200, (err: { status?: number }) => err.status ?? 0);

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 8 });
    const input: GatewayInput = {
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { url: redis.url, keyPrefix: "life:" },
      auth: { adminKey: ADMIN_KEY },
      plans: { free: { requestsPerMinute: 100 } },
      // 8 completion tokens at $125 000 per MTok = $1 a request.
      pricing: { m: { inputPerMTok: 0, outputPerMTok: 125_000 } },
      limits: { defaultMaxTokens: 8 },
      keys: [
        { name: "from-config", key: "sk-config-0123456789" },
        { name: "old-config", key: "sk-old-config-0123456789", expiresAt: "2020-01-01T00:00:00Z" },
      ],
    };
    [a, b] = await Promise.all([startTrafficGateway(input), startTrafficGateway(input)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await upstream.stop();
    await redis.stop();
  });

  async function createKey(body: Record<string, unknown>): Promise<{ secret: string; id: string; etag: string | null }> {
    const created = await adminClient(a.url)("POST", "/admin/keys", body);
    expect(created.status).toBe(201);
    secrets.push(created.json.key);
    return { secret: created.json.key, id: created.json.id, etag: created.etag };
  }

  it("rotates: both secrets work on every replica during the overlap, only the new one after, and limits carry over", async () => {
    const admin = adminClient(a.url);
    const { secret: oldSecret, id } = await createKey({ name: "svc", plan: "free", limits: { requestsPerMinute: 6 } });
    expect(await outcome(a, oldSecret)).toBe(200);

    const rotated = await admin("POST", "/admin/keys/svc/rotate", { overlap_seconds: 6 });
    expect(rotated.status).toBe(200);
    const newSecret: string = rotated.json.key;
    secrets.push(newSecret);
    expect(newSecret).toMatch(/^sk-gw-/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.json.id).toBe(id);
    const until = Date.parse(rotated.json.previous_secret_expires_at);
    expect(until).toBeGreaterThan(Date.now() + 4_000);

    // During the overlap: the old secret on both replicas, the new one on both.
    expect(await outcome(a, oldSecret)).toBe(200);
    expect(await outcome(b, newSecret)).toBe(200);
    expect(await outcome(a, newSecret)).toBe(200);
    expect(await outcome(b, oldSecret)).toBe(200);
    expect(Date.now()).toBeLessThan(until);

    // After it: the old secret is refused everywhere; the new one still works.
    // Polled on /v1/models: it authenticates without spending a request of the key's rate.
    const listStatus = (gw: TestGateway, key: string) => sdk(gw, key).models.list().then(() => 200, (err: { status?: number }) => err.status ?? 0);
    await eventually(async () => (await listStatus(b, oldSecret)) === 401, 15_000, 200);
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    const refused = await ask(a, oldSecret).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    // Five requests so far on one key id (rotation kept it): the sixth is the last under 6 per minute.
    expect(await outcome(a, newSecret)).toBe(200);
    const limited = await ask(b, newSecret).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
  });

  it("a rotation with no overlap stops the old secret at once", async () => {
    const { secret } = await createKey({ name: "leaked" });
    const rotated = await adminClient(a.url)("POST", "/admin/keys/leaked/rotate", { overlap_seconds: 0 });
    secrets.push(rotated.json.key);
    expect(rotated.json.previous_secret_expires_at).toBeNull();
    expect(await outcome(a, secret)).toBe(401);
    expect(await outcome(a, rotated.json.key)).toBe(200);
    // The other replica learns of it within its poll (200 ms here).
    await eventually(async () => (await outcome(b, secret)) === 401, 5_000, 100);
  });

  it("refuses an expired key with 401 and a message that says so", async () => {
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const { secret } = await createKey({ name: "temp", expires_at: expiresAt });
    expect(await outcome(a, secret)).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 50));
    for (const gw of [a, b]) {
      const err = await ask(gw, secret).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err).toMatchObject({ status: 401, code: "invalid_api_key" });
      expect((err as Error).message).toContain(`expired at ${expiresAt}`);
      expect((err as Error).message).not.toContain(secret);
    }
    const shown = await adminClient(a.url)("GET", "/admin/keys/temp");
    expect(shown.json).toMatchObject({ expired: true, expires_at: expiresAt });
    // A config key past its expiresAt too.
    expect(((await ask(a, "sk-old-config-0123456789").catch((e: unknown) => e)) as Error).message).toContain("expired at 2020-01-01T00:00:00.000Z");
  });

  it("a budget raise lets a refused key through again, on every replica", async () => {
    const admin = adminClient(a.url);
    await createKey({ name: "budgeted", limits: { monthlyBudgetUsd: 1 } });
    const secret = secrets[secrets.length - 1];
    expect(await outcome(a, secret)).toBe(200);
    const refused = await ask(b, secret).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused).toMatchObject({ status: 429, code: "insufficient_quota" });

    const raised = await admin("PATCH", "/admin/keys/budgeted", { limits: { monthlyBudgetUsd: 3 } });
    expect(raised.status).toBe(200);
    expect(raised.json.limits).toEqual({ monthlyBudgetUsd: 3 });
    expect(await outcome(a, secret)).toBe(200);
    await eventually(async () => (await outcome(b, secret)) === 200, 5_000, 100);
    // $3 spent now: refused again until the next raise.
    expect(await outcome(a, secret)).toBe(429);
  });

  it("reads and changes keys; config keys are read-only (409)", async () => {
    const admin = adminClient(b.url);
    await createKey({ name: "meta", owner: "team-search@example.com", labels: { app: "search" } });
    const got = await admin("GET", "/admin/keys/meta");
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ object: "gateway.key", name: "meta", source: "runtime", owner: "team-search@example.com", labels: { app: "search" }, revision: 1, disabled: false, expired: false });
    expect(got.etag).toBe(`"${got.json.id}.r1"`);
    expect(JSON.stringify(got.json)).not.toMatch(/sk-gw-|[0-9a-f]{64}/);

    const changed = await admin("PATCH", "/admin/keys/meta", { plan: "free", team: "search", models: ["m"], labels: { app: "search", env: "prod" }, owner: null });
    expect(changed.json).toMatchObject({ plan: "free", team: "search", models: ["m"], labels: { app: "search", env: "prod" }, owner: null, revision: 2, effective_limits: { requestsPerMinute: 100 } });

    const config = await admin("GET", "/admin/keys/from-config");
    expect(config.json).toMatchObject({ source: "config", name: "from-config", revision: null });
    for (const [method, path, body] of [["PATCH", "/admin/keys/from-config", { plan: "free" }], ["POST", "/admin/keys/from-config/rotate", {}], ["POST", "/admin/keys/from-config/disable", undefined], ["DELETE", "/admin/keys/from-config", undefined]] as const) {
      const refused = await admin(method, path, body);
      expect(refused.status).toBe(409);
      expect(refused.json.error).toMatchObject({ code: "key_in_config" });
      expect(refused.json.error.message).toContain("read-only");
    }
    expect((await admin("GET", "/admin/keys/nobody")).status).toBe(404);
  });

  it("refuses bad changes with a 400 naming the field", async () => {
    const admin = adminClient(a.url);
    await createKey({ name: "strict" });
    const cases: [unknown, string][] = [
      [{ plan: "gold" }, "plan"],
      [{ models: ["nope"] }, "models"],
      [{ expires_at: "2001-01-01T00:00:00Z" }, "expires_at"],
      [{ expires_at: "tomorrow" }, "expires_at"],
      [{ limits: { monthlyBudgetUsd: -1 } }, "limits.monthlyBudgetUsd"],
      [{ secret: "x" }, "body"],
      [{}, "body"],
      [{ labels: { "bad label": "x" } }, "labels.bad label"],
    ];
    for (const [body, param] of cases) {
      const res = await admin("PATCH", "/admin/keys/strict", body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("invalid_request");
      expect(res.json.error.message.startsWith(param === "body" ? "body" : param) || res.json.error.param === param).toBe(true);
    }
    const overlap = await admin("POST", "/admin/keys/strict/rotate", { overlap_seconds: 31 * 24 * 3600 });
    expect(overlap.status).toBe(400);
    expect((await admin("PUT", "/admin/keys/strict", {})).status).toBe(405);
    expect((await admin("POST", "/admin/keys/strict/explode", {})).status).toBe(404);
  });

  it("two admins at once: changes to different fields both land; a stale If-Match gets 412", async () => {
    const admin = adminClient(a.url);
    const other = adminClient(b.url, "bob@example.com");
    const { etag } = await createKey({ name: "shared" });
    const results = await Promise.all([
      admin("PATCH", "/admin/keys/shared", { owner: "alice@example.com" }),
      other("PATCH", "/admin/keys/shared", { limits: { requestsPerMinute: 7 } }),
      admin("PATCH", "/admin/keys/shared", { team: "ops" }),
      other("PATCH", "/admin/keys/shared", { labels: { tier: "gold" } }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const final = await admin("GET", "/admin/keys/shared");
    expect(final.json).toMatchObject({ owner: "alice@example.com", limits: { requestsPerMinute: 7 }, team: "ops", labels: { tier: "gold" }, revision: 5 });

    // Both read revision 1; only the first write based on it may land.
    expect(etag).toBe(`"${final.json.id}.r1"`);
    const stale = await admin("PATCH", "/admin/keys/shared", { owner: "mallory" }, { "if-match": etag as string });
    expect(stale.status).toBe(412);
    expect(stale.json.error.code).toBe("revision_mismatch");
    const racing = await Promise.all(["x", "y", "z"].map((owner) => admin("PATCH", "/admin/keys/shared", { owner }, { "if-match": final.etag as string })));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 412, 412]);
  });

  it("records every change in the audit log, with who and what, never a secret", async () => {
    const admin = adminClient(a.url, "carol@example.com");
    await createKey({ name: "audited", plan: "free" });
    await admin("PATCH", "/admin/keys/audited", { limits: { monthlyBudgetUsd: 5 } });
    const rotated = await admin("POST", "/admin/keys/audited/rotate", { overlap_seconds: 60 });
    secrets.push(rotated.json.key);
    await admin("POST", "/admin/keys/audited/disable");
    await admin("POST", "/admin/keys/audited/enable");
    await admin("DELETE", "/admin/keys/audited");

    const audit = await adminClient(b.url)("GET", "/admin/audit?key=audited");
    expect(audit.status).toBe(200);
    const events = audit.json.data as Record<string, any>[];
    expect(events.map((e) => e.action)).toEqual(["key.deleted", "key.enabled", "key.disabled", "key.rotated", "key.updated", "key.created"]);
    const [deleted, enabled, disabled, rotatedEvent, updated, created] = events;
    expect(created.actor).toMatchObject({ credential: "admin_key", name: "alice@example.com", ip: "127.0.0.1" });
    expect(created.changes.plan).toEqual({ from: null, to: "free" });
    expect(updated).toMatchObject({ actor: { name: "carol@example.com" }, target: { type: "key", name: "audited" }, changes: { "limits.monthlyBudgetUsd": { from: null, to: 5 } } });
    expect(rotatedEvent.details).toMatchObject({ overlap_seconds: 60 });
    expect(disabled.changes.disabled).toEqual({ from: false, to: true });
    expect(enabled.changes.disabled).toEqual({ from: true, to: false });
    expect(deleted.target.id).toBe(created.target.id);
    for (const e of events) expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 60_000);

    // Paging and filters.
    const page = await adminClient(b.url)("GET", "/admin/audit?limit=2&action=key.created");
    expect(page.json.data).toHaveLength(2);
    expect(page.json.has_more).toBe(true);
    const next = await adminClient(b.url)("GET", `/admin/audit?limit=2&action=key.created&before=${page.json.next_before}`);
    expect(next.json.data[0].id).not.toBe(page.json.data[1].id);
    expect((await adminClient(b.url)("GET", "/admin/audit?limit=0")).status).toBe(400);

    // Logged too; no secret anywhere: audit, logs, Redis.
    expect(a.logs().filter((l) => l.event === "admin_audit").length).toBeGreaterThanOrEqual(6);
    const everything = [JSON.stringify((await adminClient(b.url)("GET", "/admin/audit?limit=1000")).json), a.rawLogs(), b.rawLogs(), await dumpRedis(redis.url)].join("\n");
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(everything).not.toContain(ADMIN_KEY);
  });

  it("refuses a config reload that drops a plan runtime keys are on, and applies it once they moved", async () => {
    await createKey({ name: "on-free", plan: "free" });
    const reload = (plans: Record<string, { requestsPerMinute?: number }>) =>
      a.gateway.reload(() => validateConfig(testConfig({ models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }], redis: { url: redis.url, keyPrefix: "life:", commandTimeoutMs: 5_000 }, auth: { adminKey: ADMIN_KEY }, plans, pricing: { m: { inputPerMTok: 0, outputPerMTok: 125_000 } }, limits: { defaultMaxTokens: 8 } })));
    expect(() => reload({})).toThrow(/runtime key "on-free" is on plan "free", which this config no longer defines/);
    await adminClient(a.url)("PATCH", "/admin/keys/on-free", { plan: "default" });
    for (const name of ["svc", "meta"]) await adminClient(a.url)("PATCH", `/admin/keys/${name}`, { plan: "default" });
    expect(reload({}).restartNeeded).toEqual([]);
    // The plan is gone from this replica's config: the API refuses it now.
    expect((await adminClient(a.url)("PATCH", "/admin/keys/on-free", { plan: "free" })).status).toBe(400);
  });
});
