/**
 * Keys: list and search; create (secret shown once), edit, disable/enable, rotate, delete with
 * confirmation; config keys are read-only. Every action is one admin API call.
 */
import { ApiError, get, keyPath, send } from "../api";
import { clear, dialog, field, h, table } from "../dom";
import { fmtTime, fmtUsd } from "../format";
import type { Page } from "../page";
import { showSecretOnce } from "../secret";
import { badge } from "../status";
import type { BudgetsResponse, GatewayKey, TargetsResponse } from "../types";
import { keyForm } from "./key-form";

function statusOf(key: GatewayKey): HTMLElement {
  if (key.disabled) return badge("off", "disabled");
  if (key.expired) return badge("bad", "expired");
  return badge("ok", "active");
}

function matches(key: GatewayKey, needle: string): boolean {
  if (!needle) return true;
  return [key.name, key.team, key.plan, key.owner ?? "", key.source, ...key.models].some((v) => v.toLowerCase().includes(needle));
}

export function keysPage(root: HTMLElement, notify: (text: string) => void): Page {
  const search = h("input", { id: "keys-search", type: "search", placeholder: "name, team, plan, owner, model", autocomplete: "off", "aria-label": "Search keys" });
  // Disabled until the first load: a create form opened before the model list arrived would
  // offer no models, and a key made from it would be allowed every model.
  const create = h("button", { type: "button", class: "primary", id: "keys-create", disabled: true, title: "Loading…" }, "Create key");
  const body = h("div", {});
  let keys: GatewayKey[] = [];
  let models: string[] = [];
  let config: BudgetsResponse = { object: "gateway.budgets", teams: [], plans: [] };

  // The admin API's ETag of the revision shown (gateway/src/admin/key-requests.ts etagOf).
  const ifMatch = (key: GatewayKey): Record<string, string> => (key.revision !== null && key.revision !== undefined ? { "if-match": `"${key.id}.r${key.revision}"` } : {});

  async function act(what: string, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
      notify(what);
    } catch (err) {
      notify(err instanceof ApiError ? `Failed: ${err.message}` : String(err));
    }
    await page.refresh();
  }

  function openCreate(): void {
    const form = keyForm(models, config, null);
    dialog("Create a key", form.nodes, [
      { label: "Cancel", value: "cancel" },
      {
        label: "Create",
        value: "ok",
        primary: true,
        action: async () => {
          const created = await send<GatewayKey & { key: string }>("POST", "/admin/keys", form.createBody());
          await page.refresh();
          notify(`Key ${created.name} created.`);
          void showSecretOnce(`Key ${created.name} created`, created.name, created.key);
        },
      },
    ]);
  }

  function openEdit(key: GatewayKey): void {
    const form = keyForm(models, config, key);
    dialog(`Edit ${key.name}`, form.nodes, [
      { label: "Cancel", value: "cancel" },
      {
        label: "Save",
        value: "ok",
        primary: true,
        action: async () => {
          const body = form.updateBody();
          if (Object.keys(body).length === 0) return notify(`Nothing to save: ${key.name} is unchanged.`);
          await send("PATCH", keyPath(key.name), body, ifMatch(key));
          await page.refresh();
          notify(`Key ${key.name} saved.`);
        },
      },
    ]);
  }

  function openRotate(key: GatewayKey): void {
    const overlap = h("input", { type: "number", min: 0, max: 2_592_000, step: 1, value: 3600, name: "overlap_seconds" });
    dialog(`Rotate ${key.name}`, [h("p", {}, "A new secret for the same key (same limits, spend and history). The old secret keeps working during the overlap."), field("Overlap (seconds)", overlap, "0 ends the old secret now.")], [
      { label: "Cancel", value: "cancel" },
      {
        label: "Rotate",
        value: "ok",
        primary: true,
        action: async () => {
          const rotated = await send<{ key: string }>("POST", keyPath(key.name, "rotate"), { overlap_seconds: Number(overlap.value) }, ifMatch(key));
          await page.refresh();
          void showSecretOnce(`New secret of ${key.name}`, key.name, rotated.key);
        },
      },
    ]);
  }

  function openDelete(key: GatewayKey): void {
    const confirmName = h("input", { autocomplete: "off", id: "delete-confirm", "aria-label": "Type the key's name to confirm" });
    dialog(`Delete ${key.name}?`, [h("p", {}, "Applications using this key stop working at once. This cannot be undone."), field(`Type ${key.name} to confirm`, confirmName)], [
      { label: "Cancel", value: "cancel" },
      {
        label: "Delete",
        value: "ok",
        danger: true,
        action: async () => {
          if (confirmName.value !== key.name) throw new Error(`Type ${key.name} exactly to confirm.`);
          await send("DELETE", keyPath(key.name), undefined, ifMatch(key));
          await page.refresh();
          notify(`Key ${key.name} deleted.`);
        },
      },
    ]);
  }

  function actions(key: GatewayKey): HTMLTableCellElement {
    if (key.source === "config") return h("td", {}, h("span", { class: "muted" }, "read-only (config)"));
    const button = (label: string, onClick: () => void, cls?: string) => h("button", { type: "button", class: cls ?? "small", "data-action": label.toLowerCase(), "data-key": key.name, onclick: onClick as EventListener }, label);
    return h(
      "td",
      { class: "actions-cell" },
      button("Edit", () => openEdit(key)),
      key.disabled
        ? button("Enable", () => void act(`Key ${key.name} enabled.`, () => send("POST", keyPath(key.name, "enable"))))
        : button("Disable", () => void act(`Key ${key.name} disabled.`, () => send("POST", keyPath(key.name, "disable")))),
      button("Rotate", () => openRotate(key)),
      button("Delete", () => openDelete(key), "small danger"),
    );
  }

  function draw(): void {
    const needle = search.value.trim().toLowerCase();
    const shown = keys.filter((k) => matches(k, needle));
    clear(body);
    body.append(
      h("p", { class: "muted" }, `${shown.length} of ${keys.length} keys.`),
      table(
        "Client keys",
        ["Name", "Source", "Team", "Plan", "Models", "Budget / month", "Status", "Expires", "Owner", "Actions"],
        shown.map((k) => [
          h("td", { "data-key-name": k.name }, k.name),
          k.source,
          k.team,
          k.plan,
          k.models.length ? k.models.join(", ") : "all",
          fmtUsd(k.effective_limits?.monthlyBudgetUsd ?? k.limits.monthlyBudgetUsd ?? null),
          h("td", { "data-key-status": k.name }, statusOf(k)),
          k.expires_at ? fmtTime(k.expires_at) : "never",
          k.owner ?? "–",
          actions(k),
        ]),
        { id: "keys-table" },
      ),
    );
  }

  search.addEventListener("input", draw);
  create.addEventListener("click", openCreate);
  root.append(h("h1", {}, "Keys"), h("div", { class: "row" }, search, create), body);
  const page: Page = {
    title: "Keys",
    async refresh() {
      const [list, targets, budgets] = await Promise.all([get<{ data: GatewayKey[] }>("/admin/keys"), get<TargetsResponse>("/admin/targets"), get<BudgetsResponse>("/admin/budgets")]);
      keys = list.data;
      models = targets.data.map((m) => m.name);
      config = budgets;
      create.disabled = false;
      create.removeAttribute("title");
      draw();
    },
  };
  return page;
}
