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
  /** The body of PATCH /admin/keys/:name (an emptied limit is removed, so the plan's applies). */
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
      const patch: Record<string, number | null> = {};
      for (const l of limits) patch[l.fieldName] = l.input.value === "" ? null : Number(l.input.value);
      return { team: team.value.trim() || "default", plan: plan.value, models: chosenModels(), limits: patch, owner: owner.value.trim() || null, expires_at: expiry() };
    },
  };
}
