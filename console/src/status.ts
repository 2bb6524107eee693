/**
 * Status shown as a symbol and a word, with colour only on top: readable in greyscale, by
 * screen readers, and by the colour-blind.
 */
import { h } from "./dom";

export type Tone = "ok" | "warn" | "bad" | "off";

const SYMBOL: Record<Tone, string> = { ok: "✓", warn: "▲", bad: "✕", off: "–" };

export function badge(tone: Tone, text: string, title?: string): HTMLElement {
  return h("span", { class: `badge ${tone}`, title: title ?? null }, h("span", { "aria-hidden": "true", class: "sym" }, SYMBOL[tone]), ` ${text}`);
}

export function targetTone(state: string): Tone {
  if (state === "up") return "ok";
  if (state === "rate_limited" || state === "ejected") return "warn";
  return "bad";
}

export const TARGET_STATE_TEXT: Record<string, string> = { up: "up", down: "down", ejected: "cooling down (ejected)", rate_limited: "cooling down (rate limited)", misconfigured: "misconfigured" };

export function httpTone(status: number): Tone {
  if (status >= 500 || status === 499) return "bad";
  if (status >= 400) return "warn";
  return "ok";
}
