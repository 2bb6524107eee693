/**
 * What a running gateway actually does, checked from outside rather than read from its config:
 * a request without a key must get 401 for "auth enforced", a keyed answer must carry
 * x-ratelimit-* headers for "limits active", Redis must have processed commands during the
 * probe for "Redis store used" (its keys may expire at once: limits that never bind hold no state), /metrics must count requests, and the log file must grow by access-log lines.
 */
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";

export interface Features {
  /** Status of a request without a key (401 when auth is enforced). */
  noKeyStatus: number;
  keyedStatus: number;
  authEnforced: boolean;
  limitHeaders: boolean;
  /** Commands Redis processed during the probe (null: no Redis in this case). */
  redisCommands: number | null;
  metrics: boolean;
  accessLog: boolean;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  await res.arrayBuffer();
  return res;
}

/** total_commands_processed from INFO over a raw socket (no client library needed). */
export function redisCommandsProcessed(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = "";
    socket.setTimeout(1_000, () => {
      socket.destroy();
      reject(new Error("redis INFO timed out"));
    });
    socket.on("error", reject);
    socket.on("connect", () => socket.write("INFO stats\r\n"));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      const match = /total_commands_processed:(\d+)/.exec(data);
      if (match && data.endsWith("\r\n")) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
  });
}

function accessLines(logFile: string): number {
  try {
    return readFileSync(logFile, "utf8").split("\n").filter((l) => l.includes('"msg":"request"')).length;
  } catch {
    return 0;
  }
}

export async function probeFeatures(baseUrl: string, path: string, body: string, keyHeaders: Record<string, string>, logFile: string, redisPort: number | null): Promise<Features> {
  const before = accessLines(logFile);
  const commandsBefore = redisPort === null ? null : await redisCommandsProcessed(redisPort).catch(() => null);
  const noKey = await post(baseUrl + path, body, {});
  const keyed = await post(baseUrl + path, body, keyHeaders);
  const metricsText = await (await fetch(`${baseUrl}/metrics`)).text();
  await new Promise((r) => setTimeout(r, 300)); // the asynchronous log destination flushes
  const after = accessLines(logFile);
  return {
    noKeyStatus: noKey.status,
    keyedStatus: keyed.status,
    authEnforced: noKey.status === 401,
    limitHeaders: keyed.headers.has("x-ratelimit-limit-requests") || keyed.headers.has("x-ratelimit-limit-tokens"),
    // One command is the INFO itself.
    redisCommands: redisPort === null || commandsBefore === null ? null : (await redisCommandsProcessed(redisPort).catch(() => commandsBefore + 1)) - commandsBefore - 1,
    metrics: /^aigw_requests_total\{/m.test(metricsText),
    accessLog: after > before,
  };
}

/** One line for the results table, e.g. `auth enforced, limits on (redis, 4 commands per request), metrics on, access log on`. */
export function describeFeatures(f: Features, store: "memory" | "redis" | null): string {
  const mark = (on: boolean) => (on ? "on" : "OFF");
  const parts = [`auth ${f.authEnforced ? "enforced" : `not enforced (no key → ${f.noKeyStatus})`}`];
  if (store) {
    let limits = `limits ${mark(f.limitHeaders)}`;
    if (store === "redis") limits += f.redisCommands && f.redisCommands > 0 ? ` (redis: ${f.redisCommands} commands for the probe's keyed request)` : " (redis store NOT used)";
    else limits += " (memory)";
    parts.push(limits);
  }
  parts.push(`metrics ${mark(f.metrics)}`, `access log ${mark(f.accessLog)}`);
  return parts.join(", ");
}
