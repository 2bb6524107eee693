/**
 * The admin spend API, on the admin listener next to the key API:
 *   GET /admin/spend            fleet totals for a day, a month or a range (`?group_by=key,team,model`, `?interval=day`)
 *   GET /admin/spend/keys       the same grouped by key (…/teams by team, …/models by model)
 * From the daily rollups (../../budget/rollup-store.ts): fleet-wide with Redis, else this
 * replica's own, which the answer says (`scope`). Same admin key and throttle as the key API;
 * every other /admin path goes on to the handler it wraps.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { extractKey } from "../../auth/extract";
import { secretMatches } from "../../auth/key-hash";
import { buildReport, type Dimension } from "../../budget/rollup";
import type { RollupStore } from "../../budget/rollup-store";
import { GatewayError } from "../../errors";
import type { LoggerPort } from "../../traffic/metrics-port";
import type { AdminHandler } from "../admin-api";
import type { AdminAuthThrottle } from "../auth-throttle";
import { isConsoleSession } from "../console/session-mark";
import { sendError, sendJson } from "../respond";
import { parseSpendQuery } from "./spend-query";

export interface SpendApiDeps {
  adminKey: string;
  throttle: AdminAuthThrottle;
  logger: LoggerPort;
  rollups: RollupStore;
  now?: () => number;
}

const PATHS: Record<string, Dimension[]> = {
  "/admin/spend": [],
  "/admin/spend/keys": ["key"],
  "/admin/spend/teams": ["team"],
  "/admin/spend/models": ["model"],
};

const REPLICA_NOTE = "No redis section is configured: these figures are this replica's own since it started, not the fleet's.";

/** `inner` with the spend routes in front of it. */
export function withSpendApi(inner: AdminHandler, deps: SpendApiDeps): AdminHandler {
  const now = deps.now ?? Date.now;
  return async (req, res, clientIp) => {
    const url = new URL(req.url ?? "/", "http://admin.invalid");
    const grouping = PATHS[url.pathname];
    if (grouping === undefined) return inner(req, res, clientIp);
    try {
      await authorize(req, url.pathname, clientIp, deps);
      if (req.method !== "GET") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${url.pathname}; use GET.`);
      await answer(res, url, grouping, now(), deps.rollups);
    } catch (err) {
      if (!(err instanceof GatewayError)) deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, "admin spend request failed");
      sendError(res, err instanceof GatewayError ? err : new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The spend store is unavailable; try again shortly."));
    }
  };
}

async function authorize(req: IncomingMessage, path: string, clientIp: string, deps: SpendApiDeps): Promise<void> {
  const attempt = await deps.throttle.reserve(clientIp, path);
  const presented = extractKey(req.headers);
  if (!isConsoleSession(req) && (presented === null || !secretMatches(presented, deps.adminKey))) {
    deps.throttle.failed(clientIp, path, req.method ?? "GET", presented === null ? "missing_key" : "wrong_key");
    throw new GatewayError("GW_ERR_INVALID_API_KEY", "Invalid admin key.");
  }
  deps.throttle.release(attempt, clientIp);
}

async function answer(res: ServerResponse, url: URL, grouping: Dimension[], now: number, rollups: RollupStore): Promise<void> {
  const query = parseSpendQuery(url.searchParams, now, grouping);
  const report = buildReport(await rollups.read(query.dates), query);
  sendJson(res, 200, {
    object: "gateway.spend",
    from: query.from,
    to: query.to,
    interval: query.interval,
    group_by: query.groupBy,
    filter: query.filter,
    currency: "USD",
    scope: rollups.scope,
    ...(rollups.scope === "replica" ? { note: REPLICA_NOTE } : {}),
    ...(query.interval === "day" ? { dates: query.dates } : {}),
    ...report,
  });
}
