/** Models and targets: strategy, fallbacks, and every target's health with the reason. */
import { get } from "../api";
import { clear, h, table } from "../dom";
import { fmtInt, fmtMs } from "../format";
import type { Page } from "../page";
import { badge, TARGET_STATE_TEXT, targetTone } from "../status";
import type { TargetsResponse } from "../types";

export function targetsPage(root: HTMLElement): Page {
  const body = h("div", { class: "stack" });
  root.append(h("h1", {}, "Models & targets"), h("p", { class: "muted" }, "Health as this replica sees it, refreshed every 5 seconds. Recent figures cover its last 5 minutes."), body);
  return {
    title: "Models & targets",
    refreshMs: 5_000,
    async refresh() {
      const { data } = await get<TargetsResponse>("/admin/targets");
      clear(body);
      for (const model of data) {
        const tone = model.healthy_targets === 0 ? "bad" : model.healthy_targets < model.targets.length ? "warn" : "ok";
        body.append(
          h(
            "section",
            { class: "card wide", "data-model": model.name },
            h("h2", {}, model.name, " ", badge(tone, `${model.healthy_targets} of ${model.targets.length} targets usable`)),
            h("p", { class: "muted" }, `Strategy: ${model.strategy}. Fallbacks: ${model.fallbacks.length ? model.fallbacks.join(" → ") : "none"}.`),
            table(
              `Targets of ${model.name}`,
              ["Target", "Health", "Why", "Upstream", "Model sent", "Weight", "In flight", "Latency (EWMA)", "Recent requests", "Recent errors", "Recent p50"],
              model.targets.map((t) => [
                t.name,
                h("td", { "data-target": t.name, "data-state": t.state }, badge(targetTone(t.state), TARGET_STATE_TEXT[t.state] ?? t.state)),
                t.reason === "ok" ? "–" : t.reason,
                t.base_url,
                t.upstream_model,
                t.weight,
                fmtInt(t.inflight),
                fmtMs(t.ewma_ms),
                fmtInt(t.recent.requests),
                fmtInt(t.recent.errors),
                fmtMs(t.recent.latency_p50_ms),
              ]),
              { numeric: [5, 6, 7, 8, 9, 10] },
            ),
          ),
        );
      }
    },
  };
}
