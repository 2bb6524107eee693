/**
 * The admin spend API, on the admin listener next to the key API:
 *   GET /admin/spend            fleet totals for a day, a month or a range (`?group_by=key,team,model`, `?interval=day`)
 *   GET /admin/spend/keys       the same grouped by key (…/teams by team, …/models by model)
 * From the daily rollups (../../budget/rollup-store.ts): fleet-wide with Redis, else this
 * replica's own, which the answer says (`scope`). A module of the admin router (../router.ts),
 * which authenticates and throttles every caller first.
 */
import type { ServerResponse } from "node:http";
import { buildReport, type Dimension } from "../../budget/rollup";
import type { RollupStore } from "../../budget/rollup-store";
import { GatewayError } from "../../errors";
import type { LoggerPort } from "../../traffic/metrics-port";
import { sendJson } from "../respond";
import type { AdminModule, AdminRequest } from "../router";
import { parseSpendQuery } from "./spend-query";

export interface SpendApiDeps {
  logger: LoggerPort;
  rollups: RollupStore;
  now?: () => number;
}

/** Sub-path under /admin/spend → the dimension it groups by. */
const GROUPINGS: Record<string, Dimension[]> = {
  "": [],
  keys: ["key"],
  teams: ["team"],
  models: ["model"],
};

const REPLICA_NOTE = "No redis section is configured: these figures are this replica's own since it started, not the fleet's.";

/** `/admin/spend…` for the admin router (which has authenticated and throttled the caller). */
export function spendApi(deps: SpendApiDeps): AdminModule {
  const now = deps.now ?? Date.now;
  return {
    resource: "spend",
    async handle({ res, method, path, segments, query }: AdminRequest): Promise<void> {
      const grouping = segments.length <= 1 ? GROUPINGS[segments[0] ?? ""] : undefined;
      if (grouping === undefined || !Object.hasOwn(GROUPINGS, segments[0] ?? "")) throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${method} ${path.slice(0, 200)}.`);
      if (method !== "GET") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}; use GET.`);
      try {
        await answer(res, query, grouping, now(), deps.rollups);
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, "admin spend request failed");
        throw new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The spend store is unavailable; try again shortly.");
      }
    },
  };
}

async function answer(res: ServerResponse, params: URLSearchParams, grouping: Dimension[], now: number, rollups: RollupStore): Promise<void> {
  const query = parseSpendQuery(params, now, grouping);
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
