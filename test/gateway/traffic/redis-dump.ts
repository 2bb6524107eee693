/** Everything a Redis holds, as text, for "no secret in Redis" checks. */
import { Redis } from "ioredis";

export async function dumpRedis(url: string): Promise<string> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await client.keys("*");
    const parts: string[] = [];
    for (const key of keys) {
      const type = await client.type(key);
      let value: unknown;
      if (type === "string") value = (await client.getBuffer(key))?.toString("latin1");
      else if (type === "hash") value = await client.hgetall(key);
      else if (type === "set") value = await client.smembers(key);
      else if (type === "zset") value = await client.zrange(key, 0, -1, "WITHSCORES");
      else if (type === "list") value = await client.lrange(key, 0, -1);
      parts.push(`${key} ${type} ${JSON.stringify(value)}`);
    }
    return parts.join("\n");
  } finally {
    client.disconnect();
  }
}
