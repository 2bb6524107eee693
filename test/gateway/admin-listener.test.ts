/**
 * `server.adminPort`: the operator's endpoints (/metrics with key and team names, /admin/… with
 * the key admin API) leave the public port and are served only on a second listener; probes
 * answer on both; a drain closes both. Driven over HTTP with the OpenAI SDK as the API client and
 * a real Redis behind the admin API.
 */
import OpenAI from "openai";
import { connect } from "node:net";
import { validateConfig } from "../../gateway/src/config/validate";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";

const ADMIN_KEY = "sk-admin-listener-test-0123456789";
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t", mock: { interTokenMs: 40, tokens: 30 } }] }];

function adminCall(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Resolves true when a TCP connection to 127.0.0.1:port is accepted, false when refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

describe("the admin listener (server.adminPort)", () => {
  let redis: TestRedis;
  let gw: TestGateway | null = null;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
  });

  async function start(): Promise<{ publicUrl: string; adminUrl: string }> {
    gw = await startTestGateway({
      models,
      server: { adminPort: 0 },
      redis: { url: redis.url, keyPrefix: `adm-listener-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY },
      keys: [{ name: "config-key-visible-in-metrics", key: "sk-config-key-0123", team: "team-in-metrics" }],
      plans: { default: { monthlyBudgetUsd: 100 } },
      pricing: { m: { inputPerMTok: 1, outputPerMTok: 1 } },
    });
    expect(gw.gateway.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.gateway.adminPort).not.toBe(gw.gateway.port);
    return { publicUrl: gw.url, adminUrl: gw.gateway.adminUrl! };
  }

  it("refuses /metrics and every /admin path on the public port with the unknown-path 404, even with the admin key", async () => {
    const { publicUrl, adminUrl } = await start();
    const unknown = await fetch(`${publicUrl}/no-such-path`);
    const unknownBody = (await unknown.json()) as { error: { code: string; type: string } };
    for (const [method, path] of [["GET", "/metrics"], ["GET", "/admin/keys"], ["POST", "/admin/keys"], ["GET", "/admin"], ["GET", "/ui/"], ["GET", "/metrics?format=text"]]) {
      const res = await adminCall(publicUrl, method, path, method === "POST" ? { name: "created-through-public" } : undefined);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      const body = (await res.json()) as { error: { code: string; type: string; message: string } };
      expect({ code: body.error.code, type: body.error.type }).toEqual({ code: unknownBody.error.code, type: unknownBody.error.type });
      expect(body.error.message).toBe(`Unknown request URL: ${method} ${path.split("?")[0]}.`);
    }
    // The POST through the public port created nothing.
    const listed = (await (await adminCall(adminUrl, "GET", "/admin/keys")).json()) as { data: { name: string }[] };
    expect(listed.data.map((k) => k.name)).toEqual(["config-key-visible-in-metrics"]);
  });

  it("serves /metrics and the admin API on the admin port, and the API only on the public port", async () => {
    const { publicUrl, adminUrl } = await start();
    const created = await adminCall(adminUrl, "POST", "/admin/keys", { name: "made-on-admin-port" });
    expect(created.status).toBe(201);
    const secret = ((await created.json()) as { key: string }).key;
    expect((await fetch(`${adminUrl}/admin/keys`)).status).toBe(401);

    // The runtime key works on the public port, through the SDK.
    const client = new OpenAI({ baseURL: `${publicUrl}/v1`, apiKey: secret, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(answer.choices[0].message.content).toBeTruthy();
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(["m"]);

    const metrics = await fetch(`${adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^aigw_requests_total\{route="chat\.completions",model="m",target="t",status="200",key="made-on-admin-port",team="default"\} 1$/m);
    expect(text).toMatch(/^aigw_budget_used_ratio\{key="made-on-admin-port",team="default"\} /m);

    // The API is not on the admin port: a caller there cannot spend through it.
    const viaAdmin = new OpenAI({ baseURL: `${adminUrl}/v1`, apiKey: secret, maxRetries: 0 });
    await expect(viaAdmin.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404 });
    expect((await fetch(`${adminUrl}/v1/models`)).status).toBe(404);
  });

  it("answers /healthz and /readyz on both ports", async () => {
    const { publicUrl, adminUrl } = await start();
    for (const base of [publicUrl, adminUrl]) {
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
      expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: "ready" });
    }
  });

  it("drains both: an open stream finishes, then neither port accepts connections", async () => {
    const { publicUrl } = await start();
    const gateway = gw!.gateway;
    const client = new OpenAI({ baseURL: `${publicUrl}/v1`, apiKey: "sk-config-key-0123", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
    const drained = gateway.shutdown(10_000);
    let chunks = 0;
    for await (const chunk of stream) chunks += chunk.choices.length > 0 ? 1 : 0;
    expect(chunks).toBeGreaterThanOrEqual(30);
    await drained;
    expect({ public: await accepts(gateway.port), admin: await accepts(gateway.adminPort!) }).toEqual({ public: false, admin: false });
  });

  it("refuses an admin port equal to the public port, naming the field", () => {
    expect(() => validateConfig({ models, server: { port: 9100, adminPort: 9100 } })).toThrow(/server\.adminPort: must differ from server\.port \(9100\)/);
    expect(validateConfig({ models, server: { port: 9100, adminPort: 9101 } }).server).toMatchObject({ adminPort: 9101, adminHost: "127.0.0.1" });
    expect(validateConfig({ models }).server.adminPort).toBeUndefined();
  });

  it("without an admin port, one listener serves everything, as before", async () => {
    gw = await startTestGateway({ models });
    expect(gw.gateway.adminUrl).toBeNull();
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
  });
});
