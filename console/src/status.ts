/**
 * Status shown as a symbol and a word, with colour only on top: readable in greyscale, by
 * screen readers, and by the colour-blind.
 */
import { h } from "./dom";
import type { Tone } from "./tone";

export { httpTone, TARGET_STATE_TEXT, targetTone, type Tone } from "./tone";

const SYMBOL: Record<Tone, string> = { ok: "✓", warn: "▲", bad: "✕", off: "–" };

export function badge(tone: Tone, text: string, title?: string): HTMLElement {
  return h("span", { class: `badge ${tone}`, title: title ?? null }, h("span", { "aria-hidden": "true", class: "sym" }, SYMBOL[tone]), ` ${text}`);
}
