/**
 * The admin API for client keys, on when `auth.adminKey` is set:
 *   GET    /admin/keys                  list keys (config and runtime; never secrets or digests)
 *   POST   /admin/keys                  create a runtime key; the clear key is in this response only
 *   POST   /admin/keys/:name/disable    disable (POST …/enable re-enables)
 *   DELETE /admin/keys/:name            delete a runtime key
 * Callers send `Authorization: Bearer <adminKey>`, checked in constant time; failures are logged
 * (address and path, never the key) and throttled per client address (./auth-throttle.ts). Runtime keys live
 * in Redis (digest only); without a `redis` section the writes answer 501.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { generateKey, hashKey, newKeyId, secretMatches } from "../auth/key-hash";
import type { KeyRecord } from "../auth/key-record";
import type { KeyRegistry } from "../auth/registry";
import type { RuntimeKeyStore } from "../auth/runtime-keys";
import { extractKey } from "../auth/extract";
import { isReservedName, ownEntry, RESERVED_NAME_MESSAGE } from "../config/reserved-names";
import { limitsSchema, type GatewayConfig } from "../config/schema";
import { GatewayError } from "../errors";
import type { LoggerPort } from "../traffic/metrics-port";
import type { AdminAuthThrottle } from "./auth-throttle";
import { readJson, sendAdminError, sendError, sendJson } from "./respond";
import { isConsoleSession } from "./console/session-mark";

export interface AdminDeps {
  config: Pick<GatewayConfig, "auth" | "plans" | "models">;
  registry: KeyRegistry;
  runtime: RuntimeKeyStore | null;
  logger: LoggerPort;
  throttle: AdminAuthThrottle;
}

/** Answers one request under `/admin/`; the caller reads no body first (this reads its own). */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, clientIp: string) => Promise<void>;

const notReserved = (name: string) => !isReservedName(name);
const createSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'").refine(notReserved, RESERVED_NAME_MESSAGE),
    team: z.string().min(1).max(64).refine(notReserved, RESERVED_NAME_MESSAGE).default("default"),
    plan: z.string().min(1).refine(notReserved, RESERVED_NAME_MESSAGE).default("default"),
    models: z.array(z.string()).default([]),
    limits: limitsSchema.default({}),
  })
  .strict();

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function publicView(record: KeyRecord): Record<string, unknown> {
  return { object: "gateway.key", id: record.id, name: record.name, team: record.team, plan: record.plan, models: record.models, limits: record.limits, disabled: record.disabled, source: record.source, created_at: record.createdAt ?? null };
}

/** The handler, or null when the admin API is off (no `auth.adminKey`). */
export function createAdminHandler(deps: AdminDeps): AdminHandler | null {
  const adminKey = deps.config.auth.adminKey;
  if (!adminKey) return null;
  const modelNames = new Set(deps.config.models.map((m) => m.name));

  async function list(res: ServerResponse): Promise<void> {
    const runtime = deps.runtime ? await deps.runtime.list() : [];
    const data = [...deps.registry.configRecords(), ...runtime].map(publicView);
    sendJson(res, 200, { object: "list", data });
  }

  async function create(req: IncomingMessage, res: ServerResponse, runtime: RuntimeKeyStore): Promise<void> {
    const parsed = createSchema.safeParse(await readJson(req));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GatewayError("GW_ERR_INVALID_REQUEST", `${issue.path.join(".") || "body"}: ${issue.message}`, [], issue.path.join(".") || null);
    }
    const body = parsed.data;
    if (body.plan !== "default" && ownEntry(deps.config.plans, body.plan) === undefined) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Unknown plan "${body.plan}".`, [], "plan");
    const unknown = body.models.find((m) => !modelNames.has(m));
    if (unknown !== undefined) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Unknown model "${unknown}".`, [], "models");
    if (deps.registry.isConfigKey(body.name)) return sendAdminError(res, 409, "key_exists", `A key named "${body.name}" is defined in config.`, "name");
    const secret = generateKey();
    const record = { id: newKeyId(), name: body.name, team: body.team, plan: body.plan, models: body.models, limits: body.limits, createdAt: new Date().toISOString() };
    if (!(await runtime.create(hashKey(secret), record))) return sendAdminError(res, 409, "key_exists", `A key named "${body.name}" already exists.`, "name");
    deps.logger.info({ event: "key_created", keyName: body.name, team: body.team, plan: body.plan }, "admin: key created");
    sendJson(res, 201, { ...publicView({ ...record, disabled: false, source: "runtime" }), key: secret });
  }

  async function update(res: ServerResponse, runtime: RuntimeKeyStore, name: string, mode: "disable" | "enable" | "delete"): Promise<void> {
    if (deps.registry.isConfigKey(name)) return sendAdminError(res, 409, "key_in_config", `Key "${name}" is defined in config; change it there.`, "name");
    if (!(await runtime.update(name, mode))) throw new GatewayError("GW_ERR_NOT_FOUND", `No runtime key named "${name}".`);
    deps.logger.info({ event: `key_${mode}d`, keyName: name }, `admin: key ${mode}d`);
    sendJson(res, 200, mode === "delete" ? { object: "gateway.key.deleted", name, deleted: true } : { object: "gateway.key", name, disabled: mode === "disable" });
  }

  return async (req, res, clientIp) => {
    const path = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    try {
      const attempt = await deps.throttle.reserve(clientIp, path);
      const presented = extractKey(req.headers);
      if (!isConsoleSession(req) && (presented === null || !secretMatches(presented, adminKey))) {
        deps.throttle.failed(clientIp, path, method, presented === null ? "missing_key" : "wrong_key");
        throw new GatewayError("GW_ERR_INVALID_API_KEY", "Invalid admin key.");
      }
      deps.throttle.release(attempt, clientIp);
      const parts = path.split("/").filter(Boolean).map(safeDecode);
      if (parts[0] !== "admin" || parts[1] !== "keys" || parts.length > 4) throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${method} ${path}.`);
      if (parts.length === 2) {
        if (method === "GET") await list(res);
        else if (method === "POST") {
          if (!deps.runtime) sendAdminError(res, 501, "admin_needs_redis", "Creating keys at run time needs a redis section in the gateway config.");
          else await create(req, res, deps.runtime);
        } else throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on /admin/keys.`);
        return;
      }
      const name = parts[2];
      const action = parts[3];
      const mode = action === undefined && method === "DELETE" ? "delete" : method === "POST" && (action === "disable" || action === "enable") ? action : null;
      if (!mode) throw new GatewayError(action === undefined ? "GW_ERR_METHOD_NOT_ALLOWED" : "GW_ERR_NOT_FOUND", `No admin route ${method} ${path}.`);
      if (!deps.runtime) sendAdminError(res, 501, "admin_needs_redis", "Changing keys at run time needs a redis section in the gateway config.");
      else await update(res, deps.runtime, name, mode);
    } catch (err) {
      if (!(err instanceof GatewayError)) deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, "admin request failed");
      sendError(res, err instanceof GatewayError ? err : new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The key store is unavailable; try again shortly."));
    }
  };
}
