/**
 * What a running gateway actually does, checked from outside rather than read from its config:
 * a request without a key must get 401 for "auth enforced", a keyed answer must carry
 * x-ratelimit-* headers for "limits active", Redis must run commands for a keyed request for
 * "Redis store used" (counting keys would not do: limits that never bind leave keys that expire at once), /metrics must count requests, and the log file must grow by access-log lines.
 */
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";

export interface Features {
  /** Status of a request without a key (401 when auth is enforced). */
  noKeyStatus: number;
  keyedStatus: number;
  authEnforced: boolean;
  limitHeaders: boolean;
  /** What Redis did for the probe's one keyed request (null: no Redis in this case). */
  redis: RedisCounts | null;
  metrics: boolean;
  accessLog: boolean;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  await res.arrayBuffer();
  return res;
}

export interface RedisCounts {
  /** Round trips that ran scripts (EVALSHA, EVAL). */
  scripts: number;
  /** Every command, those run inside scripts included (INFO is not counted). */
  commands: number;
}

/** Command counts from INFO commandstats over a raw socket (no client library needed). */
export function redisCommandCounts(port: number): Promise<RedisCounts> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = "";
    socket.setTimeout(1_000, () => {
      socket.destroy();
      reject(new Error("redis INFO timed out"));
    });
    socket.on("error", reject);
    socket.on("connect", () => socket.write("INFO commandstats\r\n"));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      const header = /^\$(\d+)\r\n/.exec(data);
      if (!header || Buffer.byteLength(data) < header[0].length + Number(header[1])) return;
      socket.destroy();
      const counts: RedisCounts = { scripts: 0, commands: 0 };
      for (const match of data.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
        if (match[1] === "info") continue;
        counts.commands += Number(match[2]);
        if (match[1] === "evalsha" || match[1] === "eval") counts.scripts += Number(match[2]);
      }
      resolve(counts);
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
  const redisBefore = redisPort === null ? null : await redisCommandCounts(redisPort).catch(() => null);
  const noKey = await post(baseUrl + path, body, {});
  const keyed = await post(baseUrl + path, body, keyHeaders);
  await new Promise((r) => setTimeout(r, 300)); // settlement after the answer, and the asynchronous log destination
  const redisAfter = redisPort === null || redisBefore === null ? null : await redisCommandCounts(redisPort).catch(() => null);
  const metricsText = await (await fetch(`${baseUrl}/metrics`)).text();
  const after = accessLines(logFile);
  return {
    noKeyStatus: noKey.status,
    keyedStatus: keyed.status,
    authEnforced: noKey.status === 401,
    limitHeaders: keyed.headers.has("x-ratelimit-limit-requests") || keyed.headers.has("x-ratelimit-limit-tokens"),
    redis: redisBefore && redisAfter ? { scripts: redisAfter.scripts - redisBefore.scripts, commands: redisAfter.commands - redisBefore.commands } : null,
    metrics: /^aigw_requests_total\{/m.test(metricsText),
    accessLog: after > before,
  };
}

/** One line for the results table, e.g. `auth enforced, limits on (memory), metrics on, access log on`. */
export function describeFeatures(f: Features, store: "memory" | "redis" | null): string {
  const mark = (on: boolean) => (on ? "on" : "OFF");
  const parts = [`auth ${f.authEnforced ? "enforced" : `not enforced (no key → ${f.noKeyStatus})`}`];
  if (store) {
    let limits = `limits ${mark(f.limitHeaders)}`;
    if (store === "redis") limits += f.redis && f.redis.commands > 0 ? ` (redis: ${f.redis.scripts} script calls, ${f.redis.commands} commands in all, for one lone keyed request; under load one admission and one settlement call serve every request of an event-loop turn)` : " (redis store NOT used)";
    else limits += " (memory)";
    parts.push(limits);
  }
  parts.push(`metrics ${mark(f.metrics)}`, `access log ${mark(f.accessLog)}`);
  return parts.join(", ");
}
