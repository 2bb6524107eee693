/**
 * The body scan compares keys as byte spans of the body (no string per key); this checks it
 * against the previous version (a string per key, kept here as the oracle) on random bodies:
 * duplicate keys at every depth, siblings that reuse a key, objects past the Set threshold,
 * escapes and non-ASCII keys, arrays of objects.
 */
import { scanJsonBody } from "../../../gateway/src/http/body-scan";
import { seededRandom } from "../../helpers/seeded-random";

function oracle(raw: Buffer, maxDepth = 128): string {
  const kinds = new Uint8Array(maxDepth + 2);
  const keys: (string[] | Set<string> | null)[] = [];
  let depth = 0;
  let expectKey = false;
  let ambiguous = false;
  const addKey = (d: number, key: string): boolean => {
    const seen = keys[d];
    if (seen === null || seen === undefined) return (keys[d] = [key]), true;
    if (Array.isArray(seen)) {
      if (seen.includes(key)) return false;
      seen.push(key);
      if (seen.length > 16) keys[d] = new Set(seen);
      return true;
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (byte === 0x22) {
      let close = raw.indexOf(0x22, i + 1);
      while (close !== -1) {
        let b = 0;
        while (raw[close - 1 - b] === 0x5c) b++;
        if (b % 2 === 0) break;
        close = raw.indexOf(0x22, close + 1);
      }
      if (close === -1) return ambiguous ? "ambiguous-keys" : "plain";
      if (expectKey && !ambiguous) {
        let plain = true;
        for (let j = i + 1; j < close; j++) if (raw[j] === 0x5c || raw[j] >= 0x80) plain = false;
        ambiguous = !plain || !addKey(depth, raw.toString("latin1", i + 1, close));
      }
      expectKey = false;
      i = close;
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > maxDepth) return "too-deep";
      kinds[depth] = byte === 0x7b ? 1 : 0;
      keys[depth] = null;
      expectKey = byte === 0x7b;
    } else if (byte === 0x7d || byte === 0x5d) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (byte === 0x2c) expectKey = kinds[depth] === 1;
  }
  return ambiguous ? "ambiguous-keys" : "plain";
}


const NAMES = ["model", "messages", "role", "content", "a", "ab", "ba", "mod\\u0065l", "é", "k1", "k2", "x".repeat(40)];

function value(r: () => number, depth: number): string {
  const p = r();
  if (depth > 6 || p < 0.35) return r() < 0.5 ? String(Math.floor(r() * 100)) : JSON.stringify(NAMES[Math.floor(r() * NAMES.length)]);
  if (p < 0.55) return `[${Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1)).join(",")}]`;
  const count = r() < 0.1 ? 15 + Math.floor(r() * 6) : Math.floor(r() * 5);
  const pairs: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = r() < 0.8 ? `k${Math.floor(r() * (count + 3))}` : NAMES[Math.floor(r() * NAMES.length)];
    pairs.push(`"${key}":${value(r, depth + 1)}`);
  }
  return `{${pairs.join(r() < 0.2 ? " , " : ",")}}`;
}

describe("scanJsonBody against the string-per-key oracle", () => {
  it("agrees on 5,000 random bodies", () => {
    const r = seededRandom(14);
    const verdicts = new Map<string, number>();
    for (let n = 0; n < 5_000; n++) {
      const body = Buffer.from(`{"model":"m","messages":${value(r, 1)},"extra":${value(r, 1)}}`);
      const expected = oracle(body);
      expect([n, scanJsonBody(body)]).toEqual([n, expected]);
      expect([n, scanJsonBody(body, 5)]).toEqual([n, oracle(body, 5)]);
      verdicts.set(expected, (verdicts.get(expected) ?? 0) + 1);
    }
    // Both verdicts were exercised, many times.
    expect(verdicts.get("plain")).toBeGreaterThan(500);
    expect(verdicts.get("ambiguous-keys")).toBeGreaterThan(500);
  });

  it("agrees past the Set threshold: many distinct keys, then a repeat of an early, a late or a nested one", () => {
    const keys = Array.from({ length: 40 }, (_, i) => `"key${i}":${i}`);
    const cases = [
      `{${keys.join(",")}}`,
      `{${keys.join(",")},"key3":0}`,
      `{${keys.join(",")},"key39":0}`,
      `{${keys.slice(0, 17).join(",")},"key16":0}`,
      `{${keys.slice(0, 16).join(",")},"key0":0}`,
      `{"o":{${keys.join(",")}},"key1":1,"p":{${keys.join(",")}}}`,
      `[{${keys.join(",")}},{${keys.join(",")}}]`,
    ];
    const verdicts = cases.map((c) => scanJsonBody(Buffer.from(c)));
    expect(verdicts).toEqual(cases.map((c) => oracle(Buffer.from(c))));
    expect(verdicts).toEqual(["plain", "ambiguous-keys", "ambiguous-keys", "ambiguous-keys", "ambiguous-keys", "plain", "plain"]);
  });
});
