/** Which config changes apply live and which need a restart (pure). */
import { restartFieldsChanged, restartView } from "../../../gateway/src/reload/reload-scope";
import { validateConfig } from "../../../gateway/src/config/validate";

const base = { models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }] };

describe("reload scope", () => {
  it("applies models, keys, plans, pricing, logging and routing live", () => {
    const next = validateConfig({
      ...base,
      models: [{ name: "m", strategy: "latency", targets: [{ name: "t", baseUrl: "https://api.example.com/v1", apiKey: "k" }] }, { name: "n", targets: [{ name: "t", baseUrl: "mock://t" }] }],
      keys: [{ name: "a", key: "sk-aaaaaaaaaaaa", limits: { monthlyBudgetUsd: 3 } }],
      plans: { p: { requestsPerMinute: 1 } },
      pricing: { m: { inputPerMTok: 1, outputPerMTok: 2 } },
      logging: { level: "warn", accessLog: false },
      upstreamDefaults: { timeoutMs: 5, maxAttempts: 1, connectionsPerTarget: 3 },
      healthCheck: { path: "/health" },
      server: { bodyLimitBytes: 1024, trustedProxies: 2, readiness: "every-model" },
    });
    expect(restartFieldsChanged(validateConfig(base), next)).toEqual([]);
  });

  it("names each field only a restart applies", () => {
    const started = validateConfig({ ...base, auth: { adminKey: "admin-key-0123456789", required: true } });
    const next = validateConfig({
      ...base,
      server: { port: 9999, shutdownGraceMs: 1 },
      upstreamDefaults: { maxStreamMs: 5 },
      redis: { url: "redis://r:6379" },
      cache: { enabled: true },
      auth: { required: true },
    });
    expect(restartFieldsChanged(started, next).sort()).toEqual(["auth.adminKey (on or off)", "cache.enabled", "redis", "server.port", "server.shutdownGraceMs", "upstreamDefaults.maxStreamMs"].sort());
  });

  it("treats a new admin key value as live, and only its presence as restart", () => {
    const a = validateConfig({ ...base, auth: { adminKey: "admin-key-0123456789", required: true } });
    const b = validateConfig({ ...base, auth: { adminKey: "another-admin-key-987654", required: true } });
    expect(restartFieldsChanged(a, b)).toEqual([]);
    expect(JSON.stringify(restartView(a))).not.toContain("admin-key-0123456789");
  });
});
