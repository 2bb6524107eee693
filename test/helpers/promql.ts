/**
 * Just enough PromQL lexing to list the metric names and label names an expression uses, for the
 * test that checks alerts and the adapter rule against what the gateway really exports.
 */
const FUNCTIONS = new Set(
  (
    "abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min count_over_time day_of_month day_of_week " +
    "day_of_year days_in_month delta deriv exp floor histogram_count histogram_fraction histogram_quantile histogram_sum holt_winters " +
    "hour idelta increase irate label_join label_replace last_over_time ln log10 log2 max_over_time min_over_time minute month " +
    "predict_linear present_over_time quantile_over_time rate resets round scalar sgn sort sort_desc sqrt stddev_over_time " +
    "stdvar_over_time sum_over_time time timestamp vector year"
  ).split(" "),
);
const AGGREGATIONS = new Set("sum min max avg group stddev stdvar count count_values bottomk topk quantile".split(" "));
const KEYWORDS = new Set("by without on ignoring group_left group_right bool and or unless offset".split(" "));
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

function stripStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
}

/** Metric names selected by the expression (no functions, keywords or label names). */
export function metricNames(expr: string): string[] {
  const s = stripStrings(expr)
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\boffset\s+\S+/g, " ")
    .replace(GROUPING, " ");
  const ids = s.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(ids.filter((id) => !FUNCTIONS.has(id) && !AGGREGATIONS.has(id) && !KEYWORDS.has(id) && !/^(Inf|NaN)$/i.test(id)))];
}

/** Label names in matchers (`{a="b"}`) and grouping clauses (`by (a, b)`). */
export function labelNames(expr: string): string[] {
  const s = stripStrings(expr);
  const names = new Set<string>();
  for (const m of s.matchAll(/\{([^}]*)\}/g)) for (const l of m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) names.add(l[1]);
  for (const m of s.matchAll(GROUPING)) for (const l of m[2].split(",")) if (l.trim()) names.add(l.trim());
  return [...names];
}
