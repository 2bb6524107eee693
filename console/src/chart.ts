/**
 * Small SVG charts, no library: vertical bars for a series over time, horizontal bars for a
 * ranking. Every bar carries a <title> with its value, and each chart a text summary; the same
 * figures are always in a table next to it.
 */
import { h, svg } from "./dom";

function text(x: number, y: number, content: string, anchor: "start" | "middle" | "end" = "start", cls = "axis"): SVGElement {
  const el = svg("text", { x, y, "text-anchor": anchor, class: cls });
  el.textContent = content;
  return el;
}

function titled(el: SVGElement, title: string): SVGElement {
  const t = svg("title");
  t.textContent = title;
  el.appendChild(t);
  return el;
}

/** Bars over time: `points` oldest first. */
export function columnChart(label: string, points: { label: string; value: number }[], format: (n: number) => string, options: { highlight?: (i: number) => boolean } = {}): HTMLElement {
  const width = 640;
  const height = 200;
  const left = 56;
  const bottom = 24;
  const max = Math.max(0, ...points.map((p) => p.value));
  const scale = max === 0 ? 0 : (height - bottom - 12) / max;
  const step = (width - left - 8) / Math.max(1, points.length);
  const bars = points.map((p, i) => {
    const barHeight = Math.max(p.value > 0 ? 1 : 0, p.value * scale);
    const rect = svg("rect", { x: left + i * step + step * 0.1, y: height - bottom - barHeight, width: Math.max(1, step * 0.8), height: barHeight, class: options.highlight?.(i) ? "bar hi" : "bar" });
    return titled(rect, `${p.label}: ${format(p.value)}`);
  });
  const every = Math.max(1, Math.ceil(points.length / 8));
  const labels = points.map((p, i) => (i % every === 0 ? text(left + i * step + step / 2, height - 6, p.label, "middle") : null));
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${label}: ${points.length} values, highest ${format(max)}`, class: "chart" },
    svg("line", { x1: left, x2: width - 8, y1: height - bottom, y2: height - bottom, class: "axis-line" }),
    text(left - 6, 14, format(max), "end"),
    text(left - 6, height - bottom, format(0), "end"),
    ...bars,
    ...labels,
  );
  return h("figure", { class: "chart-box" }, chart, h("figcaption", {}, label));
}

/** A ranking: one bar per item, longest first, with its value written out. */
export function barList(label: string, items: { label: string; value: number; note?: string; tone?: string }[], format: (n: number) => string): HTMLElement {
  const max = Math.max(0, ...items.map((i) => i.value));
  const rows = items.map((item) => {
    const fill = h("span", { class: `fill ${item.tone ?? ""}` });
    fill.style.width = `${max === 0 ? 0 : Math.max(0.5, (item.value / max) * 100)}%`;
    return h("li", {}, h("span", { class: "bar-label" }, item.label || "(none)"), h("span", { class: "bar-track", "aria-hidden": "true" }, fill), h("span", { class: "bar-value" }, format(item.value), item.note ? h("span", { class: "muted" }, ` ${item.note}`) : null));
  });
  return h("figure", { class: "chart-box" }, h("ul", { class: "bar-list", "aria-label": label }, rows), h("figcaption", {}, label));
}

/** A tiny trend line of recent slots. */
export function sparkline(label: string, values: number[]): SVGElement {
  const width = 240;
  const height = 40;
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length - 1);
  const path = values.map((v, i) => `${i === 0 ? "M" : "L"}${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(" ");
  return titled(svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "spark" }, svg("path", { d: path || "M0,38", class: "spark-line" })), label);
}
