/** Key hashing, header extraction, plans and the config key registry. */
import { createHash } from "node:crypto";
import { extractKey } from "../../../gateway/src/auth/extract";
import { digestsEqual, generateKey, hashKey, secretMatches } from "../../../gateway/src/auth/key-hash";
import { effectiveLimits, isUnlimited } from "../../../gateway/src/auth/plans";
import { KeyRegistry } from "../../../gateway/src/auth/registry";
import { validateConfig } from "../../../gateway/src/config/validate";

describe("key hashing", () => {
  it("hashes with SHA-256, hex", () => {
    expect(hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("compares digests and secrets in constant time, refusing malformed input", () => {
    const digest = hashKey("k1");
    expect(digestsEqual(digest, hashKey("k1"))).toBe(true);
    expect(digestsEqual(digest, hashKey("k2"))).toBe(false);
    expect(digestsEqual(digest, "abc")).toBe(false);
    expect(secretMatches("admin-secret-123456", "admin-secret-123456")).toBe(true);
    expect(secretMatches("admin-secret-12345", "admin-secret-123456")).toBe(false);
  });

  it("hashes like createHash for any text (the one-shot hash is the hot path's)", () => {
    for (const key of ["", "sk-1", "sk-é-ключ-🔑", "x".repeat(5000)]) {
      expect(hashKey(key)).toBe(createHash("sha256").update(key, "utf8").digest("hex"));
    }
  });

  it("tells digests apart at any digit, and refuses non-hex or uppercase digits", () => {
    const digest = hashKey("k1");
    for (const at of [0, 31, 63]) {
      const other = digest.slice(0, at) + (digest[at] === "0" ? "1" : "0") + digest.slice(at + 1);
      expect(digestsEqual(digest, other)).toBe(false);
      expect(digestsEqual(other, digest)).toBe(false);
    }
    expect(digestsEqual("g".repeat(64), "g".repeat(64))).toBe(false);
    expect(digestsEqual(digest.toUpperCase(), digest.toUpperCase())).toBe(false);
    expect(digestsEqual("0".repeat(64), "0".repeat(64))).toBe(true);
  });

  it("generates 256-bit keys with a recognisable prefix", () => {
    const a = generateKey();
    expect(a).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/);
    expect(generateKey()).not.toBe(a);
  });
});

describe("extractKey", () => {
  it("reads Authorization: Bearer (any case) first, then x-api-key", () => {
    expect(extractKey({ authorization: "Bearer sk-1" })).toBe("sk-1");
    expect(extractKey({ authorization: "bearer   sk-2 " })).toBe("sk-2");
    expect(extractKey({ "x-api-key": "sk-3" })).toBe("sk-3");
    expect(extractKey({ authorization: "Basic abc", "x-api-key": "sk-4" })).toBe("sk-4");
    expect(extractKey({ authorization: "Bearer sk-5", "x-api-key": "sk-6" })).toBe("sk-5");
  });

  it("returns null when no key is sent", () => {
    expect(extractKey({})).toBeNull();
    expect(extractKey({ authorization: "Bearer" })).toBeNull();
    expect(extractKey({ "x-api-key": "  " })).toBeNull();
  });
});

describe("plans", () => {
  it("takes each limit from the key, else from its plan", () => {
    const plans = { free: { requestsPerMinute: 10, tokensPerMinute: 1000, monthlyBudgetUsd: 5 } };
    expect(effectiveLimits({ requestsPerMinute: 100 }, "free", plans)).toEqual({ requestsPerMinute: 100, tokensPerMinute: 1000, concurrent: undefined, monthlyBudgetUsd: 5 });
    expect(effectiveLimits({}, "default", plans)).toEqual({ requestsPerMinute: undefined, tokensPerMinute: undefined, concurrent: undefined, monthlyBudgetUsd: undefined });
    expect(isUnlimited(effectiveLimits({}, "default", plans), undefined)).toBe(true);
    expect(isUnlimited(effectiveLimits({}, "default", plans), 10)).toBe(false);
  });
});

describe("KeyRegistry (config keys)", () => {
  const config = validateConfig({
    models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }, { name: "n", targets: [{ name: "t", baseUrl: "mock://t" }] }],
    plans: { premium: { requestsPerMinute: 600 } },
    teams: { research: { monthlyBudgetUsd: 100 } },
    keys: [
      { name: "alice", key: "sk-alice-secret", team: "research", plan: "premium", models: ["m"] },
      { name: "bob", keyHash: createHash("sha256").update("sk-bob-secret").digest("hex") },
      { name: "carol", key: "sk-carol-secret", disabled: true },
    ],
  });
  const registry = new KeyRegistry(config, null);

  it("resolves a clear config key and a hashed one to their identities", async () => {
    const alice = await registry.resolve("sk-alice-secret");
    expect(alice?.identity).toMatchObject({ keyName: "alice", team: "research", plan: "premium" });
    expect([...(alice?.identity.allowedModels ?? [])]).toEqual(["m"]);
    expect(alice?.limits.requestsPerMinute).toBe(600);
    expect(alice?.teamBudgetUsd).toBe(100);
    const bob = await registry.resolve("sk-bob-secret");
    expect(bob?.identity).toMatchObject({ keyName: "bob", team: "default", plan: "default", allowedModels: null });
    expect(bob?.unlimited).toBe(true);
    // The same identity object every time (no allocation per request).
    expect((await registry.resolve("sk-alice-secret"))?.identity).toBe(alice?.identity);
    expect(registry.forIdentity(alice!.identity)).toBe(alice);
  });

  it("resolves a disabled key to its record (the caller refuses it, even with anonymous access on) and unknown keys to null", async () => {
    expect((await registry.resolve("sk-carol-secret"))?.record).toMatchObject({ name: "carol", disabled: true });
    expect(await registry.resolve("sk-nobody")).toBeNull();
    expect(await registry.resolve("")).toBeNull();
  });

  it("lists config keys without secrets or digests", () => {
    const listed = JSON.stringify(registry.configRecords());
    expect(listed).toContain("alice");
    expect(listed).not.toContain("sk-alice-secret");
    expect(listed).not.toContain(hashKey("sk-alice-secret"));
  });
});
