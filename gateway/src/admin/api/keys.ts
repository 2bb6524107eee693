/**
 * `/admin/keys`: the client key lifecycle. Config keys are listed and readable, never changed
 * here (409: the config file is their source of truth); runtime keys live in Redis.
 *   GET    /admin/keys                   list (config and runtime; never secrets or digests)
 *   POST   /admin/keys                   create; the clear key is in this response only
 *   GET    /admin/keys/:name             one key, with an ETag of its revision
 *   PATCH  /admin/keys/:name             change plan, team, models, limits (raise a budget), owner, labels, expiry, disabled
 *   POST   /admin/keys/:name/rotate      a new secret for the same key id; the old one works for `overlap_seconds`
 *   POST   /admin/keys/:name/disable     (…/enable re-enables)
 *   DELETE /admin/keys/:name
 * Writes take `If-Match: <etag>` to refuse a change based on a stale read (412); without it a
 * write that races another is re-applied to the latest version, so neither admin's change is lost.
 * Every change writes an audit event (../audit.ts) in the same Redis script. Without Redis the
 * writes answer 501.
 */
import type { ServerResponse } from "node:http";
import { generateKey, hashKey, newKeyId } from "../../auth/key-hash";
import type { KeyRecord } from "../../auth/key-record";
import type { KeyRegistry } from "../../auth/registry";
import type { ChangeResult, RuntimeKeyStore, StoredKey } from "../../auth/runtime-keys";
import type { GatewayConfig } from "../../config/schema";
import { GatewayError } from "../../errors";
import type { LoggerPort } from "../../traffic/metrics-port";
import { auditEvent, keyChanges, type AuditAction, type AuditEvent } from "../audit";
import { applyUpdate, checkReferences, createKeySchema, etagOf, parseBody, publicView, rotateKeySchema, storedForm, updateKeySchema } from "../key-requests";
import { readJson, sendAdminError, sendJson } from "../respond";
import type { AdminModule, AdminRequest } from "../router";

export interface KeysApiDeps {
  config: Pick<GatewayConfig, "plans" | "models">;
  registry: KeyRegistry;
  runtime: RuntimeKeyStore | null;
  logger: LoggerPort;
  now?: () => number;
}

/** Attempts at a write that keeps racing other writers before giving up with 409. */
const MAX_WRITE_ATTEMPTS = 5;

/** What one write does to the key it read: the change to store, or an answer without one. */
interface Change {
  action: AuditAction;
  next: KeyRecord | null;
  apply: (store: RuntimeKeyStore, current: StoredKey, event: string) => Promise<ChangeResult>;
  details?: Record<string, unknown>;
  /** Extra fields of the response (the new secret of a rotation). */
  reveal?: Record<string, unknown>;
}

export function keysApi(deps: KeysApiDeps): AdminModule {
  const now = deps.now ?? Date.now;
  const view = (record: KeyRecord) => publicView(record, deps.config.plans, now());

  function needsRuntime(): RuntimeKeyStore {
    if (!deps.runtime) throw new AdminAnswer(501, "admin_needs_redis", "Changing keys at run time needs a redis section in the gateway config.");
    return deps.runtime;
  }

  function refuseConfigKey(name: string): void {
    if (deps.registry.isConfigKey(name)) {
      throw new AdminAnswer(409, "key_in_config", `Key "${name}" is defined in the gateway config and is read-only through the admin API; change it in the config file (a reload applies it).`, "name");
    }
  }

  /** Logged once stored: the log and the audit list say the same. */
  function logAudit(event: AuditEvent): void {
    deps.logger.info({ event: "admin_audit", audit: event }, `admin: ${event.action} ${event.target.name}`);
  }

  async function list(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const runtime = deps.runtime ? await deps.runtime.list() : [];
    const team = query.get("team");
    const data = [...deps.registry.configRecords(), ...runtime].filter((r) => team === null || r.team === team).map(view);
    sendJson(res, 200, { object: "list", data });
  }

  async function get(res: ServerResponse, name: string): Promise<void> {
    const configured = deps.registry.configRecord(name);
    if (configured) return sendJson(res, 200, view(configured));
    const stored = deps.runtime ? await deps.runtime.get(name) : null;
    if (!stored) throw new GatewayError("GW_ERR_NOT_FOUND", `No key named "${name}".`);
    res.setHeader("etag", etagOf(stored.record));
    sendJson(res, 200, view(stored.record));
  }

  async function create({ req, res, actor }: AdminRequest): Promise<void> {
    const runtime = needsRuntime();
    const body = parseBody(createKeySchema, await readJson(req));
    checkReferences(deps.config, body, now());
    if (deps.registry.isConfigKey(body.name)) return sendAdminError(res, 409, "key_exists", `A key named "${body.name}" is defined in config.`, "name");
    const secret = generateKey();
    const at = new Date(now());
    const created: KeyRecord = { id: newKeyId(), name: body.name, team: body.team, plan: body.plan, models: body.models, limits: body.limits, disabled: false, source: "runtime", createdAt: at.toISOString(), updatedAt: at.toISOString(), revision: 1 };
    if (body.owner !== undefined) created.owner = body.owner;
    if (body.labels !== undefined) created.labels = body.labels;
    if (body.expires_at !== undefined) created.expiresAt = body.expires_at;
    const event = auditEvent("key.created", actor, created, keyChanges(null, created), at);
    if (!(await runtime.create(hashKey(secret), storedForm(created), JSON.stringify(event)))) return sendAdminError(res, 409, "key_exists", `A key named "${body.name}" already exists.`, "name");
    logAudit(event);
    res.setHeader("etag", etagOf(created));
    sendJson(res, 201, { ...view(created), key: secret });
  }

  /** Reads the key, builds the change, stores it if nobody changed the key meanwhile; re-reads and re-builds otherwise. */
  async function write(request: AdminRequest, name: string, build: (current: KeyRecord, at: Date) => Change): Promise<void> {
    refuseConfigKey(name);
    const runtime = needsRuntime();
    const ifMatch = request.req.headers["if-match"];
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await runtime.get(name);
      if (!current) throw new GatewayError("GW_ERR_NOT_FOUND", `No runtime key named "${name}".`);
      if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== etagOf(current.record)) {
        throw new AdminAnswer(412, "revision_mismatch", `Key "${name}" changed since you read it (now ${etagOf(current.record)}); read it again and retry.`);
      }
      const at = new Date(now());
      const change = build(current.record, at);
      const event = auditEvent(change.action, request.actor, current.record, keyChanges(current.record, change.next), at, change.details);
      const result = await change.apply(runtime, current, JSON.stringify(event));
      if (result === "not_found") throw new GatewayError("GW_ERR_NOT_FOUND", `No runtime key named "${name}".`);
      if (result === "conflict") {
        if (ifMatch !== undefined && ifMatch !== "*") throw new AdminAnswer(412, "revision_mismatch", `Key "${name}" changed since you read it; read it again and retry.`);
        continue;
      }
      logAudit(event);
      if (change.next === null) return sendJson(request.res, 200, { object: "gateway.key.deleted", id: current.record.id, name, deleted: true });
      request.res.setHeader("etag", etagOf(change.next));
      return sendJson(request.res, 200, { ...view(change.next), ...change.reveal });
    }
    throw new AdminAnswer(409, "concurrent_update", `Key "${name}" is being changed by others right now; retry.`);
  }

  const replace = (next: KeyRecord) => (store: RuntimeKeyStore, current: StoredKey, event: string) => store.replace(current, storedForm(next), next.disabled, event);

  async function update(request: AdminRequest, name: string): Promise<void> {
    refuseConfigKey(name);
    const body = parseBody(updateKeySchema, await readJson(request.req));
    checkReferences(deps.config, body, now());
    await write(request, name, (current, at) => {
      const next = applyUpdate(current, body, at);
      return { action: "key.updated", next, apply: replace(next) };
    });
  }

  async function setDisabled(request: AdminRequest, name: string, disabled: boolean): Promise<void> {
    await write(request, name, (current, at) => {
      const next = { ...current, disabled, updatedAt: at.toISOString(), revision: (current.revision ?? 0) + 1 };
      return { action: disabled ? "key.disabled" : "key.enabled", next, apply: replace(next) };
    });
  }

  async function rotate(request: AdminRequest, name: string): Promise<void> {
    refuseConfigKey(name);
    const { overlap_seconds: overlap } = parseBody(rotateKeySchema, await readJson(request.req));
    await write(request, name, (current, at) => {
      const secret = generateKey();
      const until = at.getTime() + overlap * 1000;
      const next: KeyRecord = { ...current, updatedAt: at.toISOString(), revision: (current.revision ?? 0) + 1 };
      if (overlap > 0) next.previousSecretExpiresAt = new Date(until).toISOString();
      else delete next.previousSecretExpiresAt;
      return {
        action: "key.rotated",
        next,
        details: { overlap_seconds: overlap, previous_secret_expires_at: overlap > 0 ? next.previousSecretExpiresAt : at.toISOString() },
        apply: (store, stored, event) => store.rotate(stored, storedForm(next), hashKey(secret), until, event),
        reveal: { key: secret },
      };
    });
  }

  async function remove(request: AdminRequest, name: string): Promise<void> {
    await write(request, name, () => ({ action: "key.deleted", next: null, apply: (store, current, event) => store.delete(current, event) }));
  }

  return {
    resource: "keys",
    async handle(request: AdminRequest): Promise<void> {
      const { res, method, path, segments, query } = request;
      try {
        const [name, action, extra] = segments;
        const notAllowed = () => new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on ${path.slice(0, 200)}.`);
        if (extra !== undefined) throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${method} ${path.slice(0, 200)}.`);
        if (name === undefined) {
          if (method === "GET") return await list(res, query);
          if (method === "POST") return await create(request);
          throw notAllowed();
        }
        if (action === undefined) {
          if (method === "GET") return await get(res, name);
          if (method === "PATCH") return await update(request, name);
          if (method === "DELETE") return await remove(request, name);
          throw notAllowed();
        }
        if (action !== "rotate" && action !== "disable" && action !== "enable") throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${method} ${path.slice(0, 200)}.`);
        if (method !== "POST") throw notAllowed();
        if (action === "rotate") return await rotate(request, name);
        return await setDisabled(request, name, action === "disable");
      } catch (err) {
        if (err instanceof AdminAnswer) return sendAdminError(res, err.status, err.code, err.message, err.param);
        throw err;
      }
    },
  };
}

/** An answer with a status the gateway's error table has no code for (409, 412, 501). */
class AdminAnswer extends Error {
  constructor(
    readonly status: 409 | 412 | 501,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}
