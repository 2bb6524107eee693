/** Helpers for multi-process tests: the primary's workers (by parent PID), and waiting for the cluster to be ready. */
import { readdirSync, readFileSync } from "node:fs";
import { eventually, spawnGateway, type SpawnedGateway } from "../../helpers/gateway-harness";
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";

/** PIDs of the live children of `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid && fields[0] !== "Z") out.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  return out.sort((a, b) => a - b);
}

/** Spawns main.js with `workers` workers and waits until every one listens. */
export async function spawnCluster(config: GatewayConfigInput, workers: number, env: NodeJS.ProcessEnv = {}): Promise<SpawnedGateway> {
  const gw = await spawnGateway(config, { ...env, WORKERS: String(workers) });
  await eventually(() => gw.output().includes('"event":"cluster_ready"'), 20_000).catch(() => {
    throw new Error(`cluster not ready:\n${gw.output()}`);
  });
  return gw;
}

/** Every JSON line of the process's output, and the lines that are not JSON. */
export function parseLines(output: string): { json: Record<string, unknown>[]; broken: string[] } {
  const json: Record<string, unknown>[] = [];
  const broken: string[] = [];
  for (const line of output.split("\n")) {
    if (line === "") continue;
    try {
      json.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      broken.push(line);
    }
  }
  return { json, broken };
}
