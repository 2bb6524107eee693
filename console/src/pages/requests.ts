/** Recent requests of this replica: metadata only (never prompt or answer text). */
import { get } from "../api";
import { clear, h, table } from "../dom";
import { fmtInt, fmtMs, fmtTime, fmtUsd } from "../format";
import type { Page } from "../page";
import { badge, httpTone } from "../status";
import type { RecentRequestsResponse } from "../types";

export function requestsPage(root: HTMLElement): Page {
  const status = h("select", { id: "rq-status" }, h("option", { value: "" }, "all"), h("option", { value: "ok" }, "ok"), h("option", { value: "error" }, "errors (5xx)"), h("option", { value: "refused" }, "refused (4xx)"));
  const key = h("input", { id: "rq-key", type: "search", placeholder: "key name", autocomplete: "off" });
  const model = h("input", { id: "rq-model", type: "search", placeholder: "model", autocomplete: "off" });
  const body = h("div", {});
  const page: Page = {
    title: "Recent requests",
    refreshMs: 5_000,
    async refresh() {
      const query = new URLSearchParams({ limit: "500" });
      if (status.value) query.set("status", status.value);
      if (key.value.trim()) query.set("key", key.value.trim());
      if (model.value.trim()) query.set("model", model.value.trim());
      const res = await get<RecentRequestsResponse>(`/admin/requests?${query}`);
      clear(body);
      body.append(
        h("p", { class: "muted" }, `${res.data.length} shown; this replica keeps its last ${res.capacity}.`),
        table(
          "Recent requests, newest first",
          ["Time (UTC)", "Key", "Model", "Target", "Status", "Latency", "TTFT", "Tokens in", "Tokens out", "Cost", "Refusal / error"],
          res.data.map((r) => [
            fmtTime(r.time),
            r.key ?? "–",
            r.served_model ? `${r.model} → ${r.served_model}` : r.model || "–",
            r.target ?? "–",
            h("td", {}, badge(httpTone(r.status), String(r.status))),
            fmtMs(r.latency_ms),
            fmtMs(r.ttft_ms),
            fmtInt(r.prompt_tokens),
            fmtInt(r.completion_tokens),
            fmtUsd(r.cost_usd),
            r.refusal ?? r.error_code ?? "",
          ]),
          { numeric: [5, 6, 7, 8, 9], id: "rq-table" },
        ),
      );
    },
  };
  const onChange = () => void page.refresh();
  status.addEventListener("change", onChange);
  key.addEventListener("change", onChange);
  model.addEventListener("change", onChange);
  root.append(
    h("h1", {}, "Recent requests"),
    h("form", { class: "filters", onsubmit: (e: Event) => (e.preventDefault(), onChange()) }, h("label", {}, "Status ", status), h("label", {}, "Key ", key), h("label", {}, "Model ", model), h("button", { type: "submit" }, "Filter")),
    body,
  );
  return page;
}
