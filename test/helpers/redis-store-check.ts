/**
 * "Redis is the store", for every Redis variant of a suite: a gateway that silently fell back
 * to its memory store (Redis unreachable, wrong URL) passes most limit tests, so they assert
 * this too. Each gateway reports aigw_store_fallback 0, and Redis holds the expected keys.
 */
import { Redis } from "ioredis";
import { eventually } from "./gateway-harness";

/** One sample from a gateway's /metrics, or null when absent. */
export async function metricSample(gatewayUrl: string, sample: string): Promise<number | null> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  for (const line of text.split("\n")) if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  return null;
}

/** Keys in Redis matching `pattern` (e.g. `aigw:rl:{k:k-…}:*`). */
export async function redisKeys(redisUrl: string, pattern: string): Promise<string[]> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    return await client.keys(pattern);
  } finally {
    client.disconnect();
  }
}

/**
 * Fails unless every gateway is on Redis (aigw_store_fallback present and 0) and, for each
 * pattern, Redis holds a key (waited for: settlements are written after the response).
 */
export async function expectRedisIsTheStore(gatewayUrls: string | readonly string[], redisUrl: string, keyPatterns: readonly string[]): Promise<void> {
  for (const url of typeof gatewayUrls === "string" ? [gatewayUrls] : gatewayUrls) {
    expect({ url, fallback: await metricSample(url, "aigw_store_fallback") }).toEqual({ url, fallback: 0 });
  }
  for (const pattern of keyPatterns) {
    await eventually(async () => (await redisKeys(redisUrl, pattern)).length > 0, 5_000).catch(() => undefined);
    expect({ pattern, found: (await redisKeys(redisUrl, pattern)).length > 0 }).toEqual({ pattern, found: true });
  }
}
