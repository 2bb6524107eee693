/**
 * A gateway that serves anonymous requests (`auth.required: false`) and also has keys: disabling a
 * key must stop its holder, not turn them into an anonymous caller with no limits. Before, a
 * disabled key (config or runtime) resolved like an unknown one and went through anonymously.
 * Driven with the openai SDK over HTTP, against a real Redis for the runtime key.
 */
import OpenAI from "openai";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../../helpers/redis-server";
import { startTrafficGateway } from "./http-helpers";

const ADMIN_KEY = "sk-admin-disabled-anon-0123456789";
const CONFIG_KEY = "sk-config-disabled-anon-0123456789";

describe("a disabled key where anonymous requests are served", () => {
  let redis: TestRedis;
  let upstream: MockUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      redis: { url: redis.url },
      auth: { required: false, adminKey: ADMIN_KEY },
      keys: [{ name: "off-in-config", key: CONFIG_KEY, disabled: true }],
    });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.stop();
    await redis?.stop();
  });

  const ask = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({ model: "m", max_tokens: 4, messages: [{ role: "user", content: "hi" }] });
  async function admin(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  }

  it("serves unknown keys anonymously but refuses a disabled config key and a disabled runtime key with an unknown key's 401", async () => {
    // Anonymous access is on: a key the gateway does not know still gets an answer.
    expect((await ask("sk-anything-the-sdk-needs")).choices[0].message.content).toBeTruthy();

    const refusedConfig = await ask(CONFIG_KEY).then(() => null, (err: unknown) => err);
    expect(refusedConfig).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refusedConfig as InstanceType<typeof OpenAI.AuthenticationError>).message).toContain("Incorrect API key provided");

    const created = await admin("POST", "/admin/keys", { name: "runtime-one" });
    const secret = created.key as string;
    expect((await ask(secret)).choices[0].message.content).toBeTruthy();
    await admin("POST", "/admin/keys/runtime-one/disable");
    await expect(ask(secret)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await admin("POST", "/admin/keys/runtime-one/enable");
    expect((await ask(secret)).choices[0].message.content).toBeTruthy();

    const upstreamCalls = upstream.requests.length;
    await expect(ask(CONFIG_KEY)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(upstream.requests.length).toBe(upstreamCalls);
  });
});
