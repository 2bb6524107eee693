/**
 * The budget ratio gauges (`aigw_budget_used_ratio`, `aigw_team_budget_used_ratio`) are a share of
 * this UTC month's budget, set when a budgeted key is admitted or settled. A key that stops
 * sending at month end would otherwise keep last month's ratio, and keep the budget alerts
 * firing, for the whole next month: at the first scrape of a new month they are dropped, and come
 * back with the new month's spend at the key's next request.
 */
import { monthOf } from "../budget/spend";

interface Resettable {
  reset(): void;
}

/** A scrape hook (GatewayMetrics.onScrape) that resets `gauges` whenever the UTC month changed since the last scrape. */
export function dropRatiosOfPastMonths(gauges: readonly Resettable[], now: () => number = () => Date.now()): () => void {
  let month = monthOf(now());
  return () => {
    const current = monthOf(now());
    if (current === month) return;
    month = current;
    for (const gauge of gauges) gauge.reset();
  };
}
