/** Budgets against spend, pure: which keys and teams are near (≥ 80%) or over their monthly budget. */
import type { Tone } from "./tone";

export const NEAR_BUDGET = 0.8;

export interface BudgetLine {
  kind: "key" | "team";
  name: string;
  spentUsd: number;
  budgetUsd: number;
  ratio: number;
  tone: Tone;
  verdict: string;
}

export function budgetLine(kind: "key" | "team", name: string, spentUsd: number, budgetUsd: number): BudgetLine {
  const ratio = budgetUsd > 0 ? spentUsd / budgetUsd : 0;
  const [tone, verdict]: [Tone, string] = ratio >= 1 ? ["bad", "over budget"] : ratio >= NEAR_BUDGET ? ["warn", "near budget"] : ["ok", "within budget"];
  return { kind, name, spentUsd, budgetUsd, ratio, tone, verdict };
}

/** Worst first: over, then near, then the rest, each by share used. */
export function sortBudgetLines(lines: BudgetLine[]): BudgetLine[] {
  return [...lines].sort((a, b) => b.ratio - a.ratio || a.name.localeCompare(b.name));
}
