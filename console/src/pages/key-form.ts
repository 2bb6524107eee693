/** The create and edit forms of a key, and the admin API bodies they make (snake_case top level, camelCase limits). */
import { field, h } from "../dom";
import type { BudgetsResponse, GatewayKey, Limits } from "../types";

const LIMIT_FIELDS: [keyof Limits, string, string][] = [
  ["requestsPerMinute", "Requests per minute", "1"],
  ["tokensPerMinute", "Tokens per minute", "1"],
  ["concurrent", "Concurrent requests", "1"],
  ["monthlyBudgetUsd", "Monthly budget (USD)", "0.01"],
];

export interface KeyForm {
  nodes: HTMLElement[];
  /** The body of POST /admin/keys. */
  createBody(): Record<string, unknown>;
  /**
   * The body of PATCH /admin/keys/:name: only the fields the form changed (an emptied limit is
   * removed, so the plan's applies), so an edit never rewrites what the form cannot show exactly
   * (an expiry's time of day, a model the config no longer lists). Empty when nothing changed.
   */
  updateBody(): Record<string, unknown>;
}

export function keyForm(models: string[], config: BudgetsResponse, key: GatewayKey | null): KeyForm {
  const name = h("input", { name: "name", required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}", autocomplete: "off", value: key?.name ?? "", disabled: key !== null });
  const team = h("input", { name: "team", autocomplete: "off", value: key?.team ?? "default" });
  const planNames = ["default", ...config.plans.map((p) => p.name).filter((n) => n !== "default")];
  const plan = h("select", { name: "plan" }, planNames.map((p) => h("option", { value: p, selected: (key?.plan ?? "default") === p }, p)));
  const modelBoxes = models.map((m) => h("input", { type: "checkbox", name: "models", value: m, checked: key?.models.includes(m) ?? false }));
  const limits = LIMIT_FIELDS.map(([fieldName, label, step]) => ({ fieldName, input: h("input", { type: "number", min: step, step, name: fieldName, value: key?.limits[fieldName] ?? "", "aria-label": label }), label }));
  const owner = h("input", { name: "owner", autocomplete: "off", value: key?.owner ?? "" });
  const expires = h("input", { name: "expires_at", type: "date", value: key?.expires_at ? key.expires_at.slice(0, 10) : "" });
  const nodes = [
    field("Name", name, key ? "A key's name cannot change." : "1-64 letters, digits, '_', '.' or '-'."),
    field("Team", team),
    field("Plan", plan),
    h("fieldset", {}, h("legend", {}, "Models (none ticked: every model)"), h("div", { class: "checks" }, modelBoxes.map((box, i) => h("label", {}, box, ` ${models[i]}`)))),
    h("fieldset", {}, h("legend", {}, "Limits (empty: the plan's)"), h("div", { class: "grid2" }, limits.map((l) => field(l.label, l.input)))),
    field("Owner", owner, "A person or team address, for whoever finds the key later."),
    field("Expires on (UTC)", expires, "Empty: never."),
  ];
  const chosenModels = () => modelBoxes.filter((b) => b.checked).map((b) => b.value);
  const expiry = () => (expires.value ? `${expires.value}T00:00:00Z` : null);
  return {
    nodes,
    createBody() {
      const body: Record<string, unknown> = { name: name.value.trim(), team: team.value.trim() || "default", plan: plan.value, models: chosenModels() };
      const set: Record<string, number> = {};
      for (const l of limits) if (l.input.value !== "") set[l.fieldName] = Number(l.input.value);
      body.limits = set;
      if (owner.value.trim()) body.owner = owner.value.trim();
      if (expiry()) body.expires_at = expiry();
      return body;
    },
    updateBody() {
      const before: Pick<GatewayKey, "team" | "plan" | "models" | "limits" | "owner" | "expires_at"> = key ?? { team: "default", plan: "default", models: [], limits: {}, owner: null, expires_at: null };
      const body: Record<string, unknown> = {};
      const teamNow = team.value.trim() || "default";
      if (teamNow !== before.team) body.team = teamNow;
      if (plan.value !== before.plan) body.plan = plan.value;
      // Compared with what the boxes showed ticked: models the config no longer lists have no box.
      const shownTicked = before.models.filter((m) => models.includes(m));
      const chosen = chosenModels();
      if (chosen.length !== shownTicked.length || chosen.some((m) => !shownTicked.includes(m))) body.models = chosen;
      const patch: Record<string, number | null> = {};
      for (const l of limits) {
        const now = l.input.value === "" ? null : Number(l.input.value);
        if (now !== (before.limits[l.fieldName] ?? null)) patch[l.fieldName] = now;
      }
      if (Object.keys(patch).length > 0) body.limits = patch;
      const ownerNow = owner.value.trim() || null;
      if (ownerNow !== (before.owner ?? null)) body.owner = ownerNow;
      // The field holds a date only: untouched, the stored instant (and its time of day) stays.
      if (expires.value !== (before.expires_at ? before.expires_at.slice(0, 10) : "")) body.expires_at = expiry();
      return body;
    },
  };
}
