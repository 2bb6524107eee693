/** Spend per team, key or model over a range: chart, ranking, table, CSV; budgets against this month's spend. */
import { ApiError, get } from "../api";
import { budgetLine, sortBudgetLines } from "../budget";
import { barList, columnChart } from "../chart";
import { toCsv } from "../csv";
import { clear, download, h, table } from "../dom";
import { fmtInt, fmtPct, fmtUsd, isoDay, isoMonth } from "../format";
import type { Page } from "../page";
import { badge } from "../status";
import type { BudgetsResponse, GatewayKey, SpendReport } from "../types";

type Dimension = "team" | "key" | "model";

function presetRange(preset: string, now: Date): [string, string] {
  const day = (offset: number) => isoDay(new Date(now.getTime() - offset * 86_400_000));
  if (preset === "today") return [day(0), day(0)];
  if (preset === "7d") return [day(6), day(0)];
  if (preset === "30d") return [day(29), day(0)];
  return [`${isoMonth(now)}-01`, day(0)];
}

export function spendPage(root: HTMLElement): Page {
  const now = new Date();
  const preset = h("select", { id: "sp-preset" }, h("option", { value: "month" }, "This month"), h("option", { value: "today" }, "Today"), h("option", { value: "7d" }, "Last 7 days"), h("option", { value: "30d" }, "Last 30 days"), h("option", { value: "custom" }, "Custom"));
  const [from0, to0] = presetRange("month", now);
  const from = h("input", { id: "sp-from", type: "date", value: from0 });
  const to = h("input", { id: "sp-to", type: "date", value: to0 });
  const group = h("select", { id: "sp-group" }, h("option", { value: "team" }, "team"), h("option", { value: "key" }, "key"), h("option", { value: "model" }, "model"));
  const body = h("div", { class: "stack" });
  preset.addEventListener("change", () => {
    if (preset.value !== "custom") [from.value, to.value] = presetRange(preset.value, new Date());
    void page.refresh();
  });
  for (const input of [from, to]) input.addEventListener("change", () => ((preset.value = "custom"), void page.refresh()));
  group.addEventListener("change", () => void page.refresh());

  async function budgets(): Promise<HTMLElement> {
    const month = isoMonth(new Date());
    const [byKey, byTeam, keys, config] = await Promise.all([
      get<SpendReport>(`/admin/spend/keys?month=${month}`),
      get<SpendReport>(`/admin/spend/teams?month=${month}`),
      get<{ data: GatewayKey[] }>("/admin/keys"),
      get<BudgetsResponse>("/admin/budgets"),
    ]);
    const spentByKey = new Map(byKey.groups.map((g) => [g.key ?? "", g.totals.cost_usd]));
    const spentByTeam = new Map(byTeam.groups.map((g) => [g.team ?? "", g.totals.cost_usd]));
    const plans = new Map(config.plans.map((p) => [p.name, p.limits]));
    const lines = [];
    for (const key of keys.data) {
      const budget = key.effective_limits?.monthlyBudgetUsd ?? key.limits.monthlyBudgetUsd ?? plans.get(key.plan)?.monthlyBudgetUsd;
      if (budget !== undefined) lines.push(budgetLine("key", key.name, spentByKey.get(key.name) ?? 0, budget));
    }
    for (const team of config.teams) lines.push(budgetLine("team", team.team, spentByTeam.get(team.team) ?? 0, team.monthly_budget_usd));
    return h(
      "section",
      { class: "card wide" },
      h("h2", {}, `Budgets, ${month}`),
      table(
        "Monthly budgets against this month's spend (near: 80% or more)",
        ["Kind", "Name", "Spent", "Budget", "Used", "Status"],
        sortBudgetLines(lines).map((l) => [l.kind, l.name, fmtUsd(l.spentUsd), fmtUsd(l.budgetUsd), fmtPct(l.ratio), h("td", { class: `verdict ${l.tone}`, "data-budget": `${l.kind}:${l.name}` }, badge(l.tone, l.verdict))]),
        { numeric: [2, 3, 4], id: "sp-budgets" },
      ),
    );
  }

  // Each change of the controls starts a refresh; only the latest may draw (an older, slower
  // answer arriving last would show a range or grouping the controls no longer say).
  let latest = 0;
  const page: Page = {
    title: "Spend",
    async refresh() {
      const asked = ++latest;
      const dim = group.value as Dimension;
      let report: SpendReport;
      try {
        report = await get<SpendReport>(`/admin/spend?from=${from.value}&to=${to.value}&group_by=${dim}&interval=day`);
      } catch (err) {
        if (asked !== latest) return;
        clear(body);
        if (err instanceof ApiError && err.status !== 401) return void body.append(h("p", { class: "error" }, `Spend is not available: ${err.message}`));
        throw err;
      }
      if (asked !== latest) return;
      const series = (report.series ?? []).map((d) => ({ label: d.date.slice(5), value: d.cost_usd }));
      const groups = report.groups;
      const rows = groups.map((g) => [g[dim] || "(none)", g.totals.requests, g.totals.input_tokens, g.totals.output_tokens, g.totals.cost_usd]);
      const csv = h("button", { type: "button", id: "sp-csv" }, "Export CSV");
      csv.addEventListener("click", () => download(`spend-by-${dim}-${report.from}-to-${report.to}.csv`, toCsv([dim, "requests", "input_tokens", "output_tokens", "cost_usd"], rows)));
      clear(body);
      body.append(
        h("p", {}, h("strong", { id: "sp-total" }, fmtUsd(report.totals.cost_usd)), ` spent from ${report.from} to ${report.to} over ${fmtInt(report.totals.requests)} requests (${report.scope === "fleet" ? "whole fleet" : "this replica only: no Redis"}).`),
        h("div", { class: "charts" }, columnChart(`Cost per day (USD), ${report.from} to ${report.to}`, series, fmtUsd), barList(`Cost by ${dim}`, groups.slice(0, 12).map((g) => ({ label: g[dim] ?? "", value: g.totals.cost_usd })), fmtUsd)),
        h("div", { class: "row" }, h("h2", {}, `By ${dim}`), csv),
        table(`Spend by ${dim}, ${report.from} to ${report.to}`, [dim, "Requests", "Input tokens", "Output tokens", "Cost"], rows.map((r) => [r[0], fmtInt(r[1] as number), fmtInt(r[2] as number), fmtInt(r[3] as number), fmtUsd(r[4] as number)]), { numeric: [1, 2, 3, 4], id: "sp-table" }),
      );
      try {
        const section = await budgets();
        if (asked === latest) body.append(section);
      } catch (err) {
        if (asked !== latest) return;
        if (err instanceof ApiError && err.status !== 401) body.append(h("p", { class: "error" }, `Budgets are not available: ${err.message}`));
        else throw err;
      }
    },
  };
  root.append(h("h1", {}, "Spend"), h("form", { class: "filters", onsubmit: (e: Event) => (e.preventDefault(), void page.refresh()) }, h("label", {}, "Range ", preset), h("label", {}, "From ", from), h("label", {}, "To ", to), h("label", {}, "Group by ", group)), body);
  return page;
}
