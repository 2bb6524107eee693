/**
 * `GET /admin/audit`: the admin changes the gateway recorded, newest first.
 *   ?limit=N       at most N events (default 100, at most 1000)
 *   ?key=NAME      only events about that key
 *   ?action=A      only that action (key.created, key.updated, key.rotated, …)
 *   ?before=ID     the page after an event id (`next_before` of the previous page)
 * Events live in Redis (the newest `auth.auditMaxEvents`); without Redis there are none: 501.
 */
import type { RuntimeKeyStore } from "../../auth/runtime-keys";
import { GatewayError } from "../../errors";
import type { AuditEvent } from "../audit";
import { sendAdminError, sendJson } from "../respond";
import type { AdminModule, AdminRequest } from "../router";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function parseLimit(value: string | null): number {
  if (value === null) return DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new GatewayError("GW_ERR_INVALID_REQUEST", `limit: a whole number from 1 to ${MAX_LIMIT}.`, [], "limit");
  return n;
}

export function auditApi(runtime: RuntimeKeyStore | null): AdminModule {
  return {
    resource: "audit",
    async handle({ res, method, path, segments, query }: AdminRequest): Promise<void> {
      if (segments.length > 0) throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${method} ${path}.`);
      if (method !== "GET") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on /admin/audit; use GET.`);
      if (!runtime) return sendAdminError(res, 501, "admin_needs_redis", "The audit log is kept in Redis: add a redis section to the gateway config.");
      const limit = parseLimit(query.get("limit"));
      const key = query.get("key");
      const action = query.get("action");
      const before = query.get("before");
      const events: AuditEvent[] = [];
      let started = before === null;
      let more = false;
      for (const text of await runtime.auditEvents(runtime.auditMaxEvents)) {
        let event: AuditEvent;
        try {
          event = JSON.parse(text) as AuditEvent;
        } catch {
          continue;
        }
        if (!started) {
          started = event.id === before;
          continue;
        }
        if (key !== null && event.target?.name !== key) continue;
        if (action !== null && event.action !== action) continue;
        if (events.length === limit) {
          more = true;
          break;
        }
        events.push(event);
      }
      sendJson(res, 200, { object: "list", data: events, has_more: more, next_before: more ? events[events.length - 1].id : null });
    },
  };
}
