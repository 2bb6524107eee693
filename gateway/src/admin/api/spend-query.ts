/**
 * The admin spend API's query string, pure: which dates (`date`, `month`, or `from`/`to`;
 * the current month by default), grouped by which of key, team and model, filtered how, and
 * per day or in total. Every mistake is a GatewayError naming the parameter.
 */
import { GatewayError } from "../../errors";
import { datesBetween, DIMENSIONS, type Dimension, type ReportQuery } from "../../budget/rollup";

/** Longest range one request may ask for. */
export const MAX_RANGE_DAYS = 400;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;

function invalid(param: string, message: string): GatewayError {
  return new GatewayError("GW_ERR_INVALID_REQUEST", message, [], param);
}

function validDate(value: string, param: string): string {
  if (!DATE.test(value) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) throw invalid(param, `${param}: expected a date as YYYY-MM-DD, got "${value.slice(0, 40)}".`);
  return value;
}

function monthRange(month: string, param: string): [string, string] {
  if (!MONTH.test(month)) throw invalid(param, `${param}: expected a month as YYYY-MM, got "${month.slice(0, 40)}".`);
  const [y, m] = month.split("-").map(Number);
  if (m < 1 || m > 12) throw invalid(param, `${param}: expected a month as YYYY-MM, got "${month.slice(0, 40)}".`);
  const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  return [`${month}-01`, last];
}

export interface SpendQuery extends ReportQuery {
  from: string;
  to: string;
}

/** Parses the query; `groupByDefault` is the path's grouping (`/admin/spend/keys` → key). */
export function parseSpendQuery(params: URLSearchParams, now: number, groupByDefault: readonly Dimension[] = []): SpendQuery {
  for (const name of params.keys()) {
    if (!["date", "month", "from", "to", "group_by", "interval", "key", "team", "model"].includes(name)) throw invalid(name, `Unknown query parameter "${name.slice(0, 40)}".`);
  }
  const date = params.get("date");
  const month = params.get("month");
  const from = params.get("from");
  const to = params.get("to");
  const ways = [date !== null, month !== null, from !== null || to !== null].filter(Boolean).length;
  if (ways > 1) throw invalid("date", "Give one of date, month, or from and to.");
  let range: [string, string];
  if (date !== null) range = [validDate(date, "date"), date];
  else if (month !== null) range = monthRange(month, "month");
  else if (from !== null || to !== null) {
    if (from === null || to === null) throw invalid(from === null ? "from" : "to", "Give both from and to (inclusive dates, YYYY-MM-DD).");
    range = [validDate(from, "from"), validDate(to, "to")];
    if (range[0] > range[1]) throw invalid("from", "from is after to.");
  } else range = monthRange(new Date(now).toISOString().slice(0, 7), "month");
  const dates = datesBetween(range[0], range[1]);
  if (dates.length > MAX_RANGE_DAYS) throw invalid("from", `A range may cover at most ${MAX_RANGE_DAYS} days.`);

  let groupBy: Dimension[] = [...groupByDefault];
  const group = params.get("group_by");
  if (group !== null && group !== "") {
    groupBy = [];
    for (const dim of group.split(",")) {
      if (!(DIMENSIONS as readonly string[]).includes(dim)) throw invalid("group_by", `group_by: expected a comma-separated list of ${DIMENSIONS.join(", ")}, got "${dim.slice(0, 40)}".`);
      if (!groupBy.includes(dim as Dimension)) groupBy.push(dim as Dimension);
    }
  }
  const interval = params.get("interval") ?? "total";
  if (interval !== "day" && interval !== "total") throw invalid("interval", `interval: expected day or total, got "${interval.slice(0, 40)}".`);
  const filter: ReportQuery["filter"] = {};
  for (const dim of DIMENSIONS) {
    const value = params.get(dim);
    if (value !== null) filter[dim] = value;
  }
  return { from: range[0], to: range[1], dates, groupBy, filter, interval };
}
