/**
 * The general logger censors secret-named fields at any depth: a whole config, request headers
 * or an error carrying them print every other field but never a key.
 */
import { Writable } from "node:stream";
import { createLogger } from "../../gateway/src/log";
import { isSecretName, redactSecrets } from "../../gateway/src/log-redact";

const UPSTREAM_KEY = "sk-upstream-DEADBEEF0001";
const ADMIN_KEY = "admin-key-DEADBEEF0002";
const CLIENT_KEY = "sk-client-DEADBEEF0003";
const REDIS_PASSWORD = "redis-pw-DEADBEEF0004";
const SECRETS = [UPSTREAM_KEY, ADMIN_KEY, CLIENT_KEY, REDIS_PASSWORD];

function captured(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString("utf8")), done()) });
  const logger = createLogger("debug", sink);
  const raw = () => chunks.join("");
  return { logger, raw, lines: () => raw().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const nestedConfig = () => ({
  models: [{ name: "gpt", targets: [{ baseUrl: "https://api.example", apiKey: UPSTREAM_KEY, model: "gpt-4o" }] }],
  auth: { adminKey: ADMIN_KEY, required: true },
  redis: { url: "redis://127.0.0.1:6379", password: REDIS_PASSWORD },
  keys: [{ name: "team-a", key: CLIENT_KEY }],
});

describe("log redaction by field name at any depth", () => {
  it("censors a whole nested config (targets[].apiKey, auth.adminKey, redis.password, keys[].key) and keeps the rest", () => {
    const { logger, lines, raw } = captured();
    logger.info({ config: nestedConfig() }, "config loaded");
    for (const secret of SECRETS) expect(raw()).not.toContain(secret);
    const config = lines()[0].config as ReturnType<typeof nestedConfig>;
    expect(config.models[0].targets[0]).toEqual({ baseUrl: "https://api.example", apiKey: "[redacted]", model: "gpt-4o" });
    expect(config.auth).toEqual({ adminKey: "[redacted]", required: true });
    expect(config.redis).toEqual({ url: "redis://127.0.0.1:6379", password: "[redacted]" });
    expect(config.keys[0]).toEqual({ name: "team-a", key: "[redacted]" });
  });

  it("censors request headers (authorization, x-api-key, cookie) nested under req", () => {
    const { logger, lines, raw } = captured();
    logger.warn({ req: { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}`, "x-api-key": CLIENT_KEY, Cookie: `s=${ADMIN_KEY}`, "content-type": "application/json" } } }, "odd request");
    for (const secret of SECRETS) expect(raw()).not.toContain(secret);
    const req = lines()[0].req as { headers: Record<string, string> };
    expect(req.headers).toEqual({ authorization: "[redacted]", "x-api-key": "[redacted]", Cookie: "[redacted]", "content-type": "application/json" });
  });

  it("censors fields of a logged error and of its nested options, keeping type, message and stack", () => {
    const { logger, lines, raw } = captured();
    const err = Object.assign(new TypeError("connect failed"), { options: { headers: { Authorization: `Bearer ${UPSTREAM_KEY}` } }, apiKey: UPSTREAM_KEY });
    logger.error({ err, target: { name: "t1", apiKey: UPSTREAM_KEY } }, "request failed");
    for (const secret of SECRETS) expect(raw()).not.toContain(secret);
    const line = lines()[0] as { err: Record<string, unknown>; target: Record<string, unknown> };
    expect(line.err).toMatchObject({ type: "TypeError", message: "connect failed", apiKey: "[redacted]", options: { headers: { Authorization: "[redacted]" } } });
    expect(String(line.err.stack)).toContain("connect failed");
    expect(line.target).toEqual({ name: "t1", apiKey: "[redacted]" });
  });

  it("survives cycles without printing a secret", () => {
    const { logger, lines, raw } = captured();
    const cyclic: Record<string, unknown> = { deep: { deeper: { password: REDIS_PASSWORD } } };
    cyclic.self = cyclic;
    logger.info({ cyclic }, "hello");
    for (const secret of SECRETS) expect(raw()).not.toContain(secret);
    expect(lines()[0]).toMatchObject({ cyclic: { deep: { deeper: { password: "[redacted]" } }, self: "[circular]" } });
  });

  it("matches names case-insensitively with - and _ ignored, and leaves look-alikes alone", () => {
    for (const name of ["apiKey", "api_key", "API-KEY", "x-api-key", "Authorization", "adminKey", "password", "client_secret", "key"]) expect(isSecretName(name)).toBe(true);
    for (const name of ["keyName", "promptTokens", "monthlyBudgetUsd", "keyPrefix", "model"]) expect(isSecretName(name)).toBe(false);
    const input = { a: [{ b: { apiKey: "x" } }] };
    expect(redactSecrets(input)).toEqual({ a: [{ b: { apiKey: "[redacted]" } }] });
    expect(input.a[0].b.apiKey).toBe("x");
  });
});
