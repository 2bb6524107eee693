/**
 * The IPC messages between the cluster primary and its workers (process.send). Only metrics
 * cross: the primary asks every worker for its registry as JSON and aggregates them, so one
 * scrape of any worker's `/metrics` returns the whole process group's figures.
 */
import type { MetricObjectWithValues, MetricValue } from "prom-client";

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Primary → worker: send your registry as JSON. */
export interface LocalMetricsRequest {
  type: "aigw:local-metrics-req";
  id: number;
}
/** Worker → primary: the answer to a LocalMetricsRequest. */
export interface LocalMetricsResponse {
  type: "aigw:local-metrics-res";
  id: number;
  metrics: MetricsJson;
}
/** Worker → primary: a client scraped me; give me every worker's metrics, aggregated. */
export interface ClusterMetricsRequest {
  type: "aigw:cluster-metrics-req";
  id: number;
}
/** Primary → worker: the aggregate in Prometheus text format, or why there is none. */
export interface ClusterMetricsResponse {
  type: "aigw:cluster-metrics-res";
  id: number;
  contentType: string;
  body: string;
  error?: string;
}

export type ClusterMessage = LocalMetricsRequest | LocalMetricsResponse | ClusterMetricsRequest | ClusterMetricsResponse;

export function isClusterMessage(value: unknown): value is ClusterMessage {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string" && (value as { type: string }).type.startsWith("aigw:");
}
