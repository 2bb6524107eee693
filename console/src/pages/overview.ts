/** Overview: traffic, errors and time to first token per model, and spend today and this month. */
import { ApiError, get } from "../api";
import { sparkline } from "../chart";
import { clear, h, table } from "../dom";
import { fmtInt, fmtMs, fmtPct, fmtRate, fmtUsd, isoDay, isoMonth } from "../format";
import type { Page } from "../page";
import { badge } from "../status";
import type { OverviewResponse, SpendReport } from "../types";

async function spendOf(query: string): Promise<SpendReport | ApiError> {
  try {
    return await get<SpendReport>(`/admin/spend?${query}`);
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) return err;
    throw err;
  }
}

function card(label: string, value: string, note?: Node | string | null, id?: string): HTMLElement {
  return h("section", { class: "card", "aria-label": label }, h("h3", {}, label), h("p", { class: "big", id: id ?? null }, value), note ? h("p", { class: "muted small" }, note) : null);
}

export function overviewPage(root: HTMLElement): Page {
  const body = h("div", { class: "stack" });
  root.append(h("h1", {}, "Overview"), h("p", { class: "muted" }, "Live: refreshed every 5 seconds."), body);
  return {
    title: "Overview",
    refreshMs: 5_000,
    async refresh() {
      const now = new Date();
      const [stats, today, month] = await Promise.all([get<OverviewResponse>("/admin/overview"), spendOf(`date=${isoDay(now)}`), spendOf(`month=${isoMonth(now)}`)]);
      const spendNote = (r: SpendReport | ApiError) => (r instanceof ApiError ? `unavailable: ${r.message}` : r.scope === "fleet" ? "whole fleet" : "this replica only (no Redis)");
      const windowNote = `this replica, last ${stats.window_seconds / 60} min`;
      clear(body);
      body.append(
        h(
          "div",
          { class: "cards" },
          card("Requests per second", fmtRate(stats.requests_per_second), h("span", {}, "last minute, this replica"), "ov-rps"),
          card("Error rate (5xx)", fmtPct(stats.error_rate), stats.error_rate > 0.01 ? badge("bad", "above 1%") : windowNote, "ov-errors"),
          card("Refused / 4xx", fmtPct(stats.client_error_rate), windowNote),
          card("In flight", fmtInt(stats.inflight), "upstream requests now"),
          card("Spend today", today instanceof ApiError ? "–" : fmtUsd(today.totals.cost_usd), spendNote(today), "ov-spend-today"),
          card("Spend this month", month instanceof ApiError ? "–" : fmtUsd(month.totals.cost_usd), spendNote(month), "ov-spend-month"),
        ),
        h("section", { class: "card wide" }, h("h3", {}, `Requests per ${stats.series.slot_seconds} s, last ${stats.window_seconds / 60} minutes`), sparkline(`Requests per ${stats.series.slot_seconds} seconds: ${stats.series.requests.join(", ")}`, stats.series.requests)),
        table(
          `Per model (${windowNote})`,
          ["Model", "Requests", "Req/s", "Errors (5xx)", "Refused (4xx)", "TTFT p50", "TTFT p95", "Latency p50", "Latency p95"],
          stats.models.map((m) => [m.model || "(unknown model)", fmtInt(m.requests), fmtRate(m.requests_per_second), fmtPct(m.error_rate), fmtPct(m.client_error_rate), fmtMs(m.ttft_p50_ms), fmtMs(m.ttft_p95_ms), fmtMs(m.latency_p50_ms), fmtMs(m.latency_p95_ms)]),
          { numeric: [1, 2, 3, 4, 5, 6, 7, 8], id: "ov-models" },
        ),
      );
    },
  };
}
