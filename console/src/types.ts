/**
 * What the admin API answers, as the console reads it. The console's own endpoints share their
 * types with the gateway (contract.ts); keys and spend are described here as documented in
 * docs/admin-api.md, with the fields older gateways lack marked optional.
 */
export type { BudgetsResponse, ModelView, OverviewResponse, RecentRequest, RecentRequestsResponse, TargetView, TargetsResponse } from "../../gateway/src/admin/console/contract";

export interface Limits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrent?: number;
  monthlyBudgetUsd?: number;
}

export interface GatewayKey {
  id: string;
  name: string;
  source: "config" | "runtime";
  team: string;
  plan: string;
  models: string[];
  limits: Limits;
  effective_limits?: Limits;
  owner?: string | null;
  labels?: Record<string, string>;
  disabled: boolean;
  expires_at?: string | null;
  expired?: boolean;
  previous_secret_expires_at?: string | null;
  created_at: string | null;
  updated_at?: string | null;
  revision?: number | null;
}

export interface UsageView {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface SpendGroup {
  key?: string;
  team?: string;
  model?: string;
  totals: UsageView;
  series?: (UsageView & { date: string })[];
}

export interface SpendReport {
  from: string;
  to: string;
  scope: "fleet" | "replica";
  note?: string;
  totals: UsageView;
  groups: SpendGroup[];
  series?: (UsageView & { date: string })[];
}
