/** Numbers, money, durations and dates as the console shows them. */

export const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));

export function fmtUsd(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  if (n !== 0 && Math.abs(n) < 0.01) return `$${n.toFixed(6).replace(/0+$/, "")}`;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export const fmtPct = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined ? "–" : `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 3 : 1)}%`);

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

export const fmtRate = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").slice(0, 19);
}

/** `YYYY-MM-DD` of a date, UTC (spend days are UTC days). */
export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);
export const isoMonth = (d: Date): string => d.toISOString().slice(0, 7);
