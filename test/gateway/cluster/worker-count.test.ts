/** The worker count's sources and the refusal of memory-store limits with several workers (pure). */
import { validateConfig } from "../../../gateway/src/config/validate";
import { resolveWorkers } from "../../../gateway/src/cluster/process-mode";
import { hasStoredLimits, multiWorkerProblem, workerCountFrom } from "../../../gateway/src/cluster/worker-count";
import { RestartBackoff } from "../../../gateway/src/cluster/restart-backoff";

const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

describe("worker count", () => {
  it("takes --workers over WORKERS over server.workers, and auto as one per core", () => {
    expect(workerCountFrom([], {}, 1, 8)).toBe(1);
    expect(workerCountFrom([], {}, 3, 8)).toBe(3);
    expect(workerCountFrom([], {}, "auto", 8)).toBe(8);
    expect(workerCountFrom([], { WORKERS: "4" }, 3, 8)).toBe(4);
    expect(workerCountFrom([], { WORKERS: "auto" }, 1, 6)).toBe(6);
    expect(workerCountFrom(["--config", "x", "--workers", "2"], { WORKERS: "4" }, 3, 8)).toBe(2);
    expect(workerCountFrom([], { WORKERS: " " }, 2, 8)).toBe(2);
  });

  it("refuses counts that are not whole numbers from 1 to 256, naming the source", () => {
    expect(() => workerCountFrom(["--workers", "0"], {}, 1)).toThrow(/--workers: must be a whole number from 1 to 256/);
    expect(() => workerCountFrom(["--workers"], {}, 1)).toThrow(/--workers: needs a number/);
    expect(() => workerCountFrom(["--workers", "--config"], {}, 1)).toThrow(/--workers: needs a number/);
    expect(() => workerCountFrom([], { WORKERS: "2.5" }, 1)).toThrow(/WORKERS: must be a whole number/);
    expect(() => workerCountFrom([], { WORKERS: "999" }, 1)).toThrow(/WORKERS: must be a whole number/);
  });

  it("accepts server.workers as a number, a digit string from ${VAR} and auto; refuses the rest with the field path", () => {
    expect(validateConfig({ models, server: { workers: 2 } }).server.workers).toBe(2);
    expect(validateConfig({ models, server: { workers: "3" } }).server.workers).toBe(3);
    expect(validateConfig({ models, server: { workers: "auto" } }).server.workers).toBe("auto");
    expect(validateConfig({ models }).server.workers).toBe(1);
    expect(() => validateConfig({ models, server: { workers: 0 } })).toThrow(/server\.workers: must be a positive integer or "auto"/);
    expect(() => validateConfig({ models, server: { workers: "many" } })).toThrow(/server\.workers/);
  });
});

describe("memory-store limits with several workers", () => {
  const limited = { models, keys: [{ name: "a", keyHash: "a".repeat(64), limits: { requestsPerMinute: 10 } }] };

  it("are refused: each worker would enforce every limit on its own", () => {
    const config = validateConfig(limited);
    expect(hasStoredLimits(config)).toBe(true);
    expect(multiWorkerProblem(config, 2)).toMatch(/2 workers with limits on the memory store .* add a redis section/);
    expect(() => resolveWorkers(["--workers", "2"], {}, config)).toThrow(/server\.workers: 2 workers with limits on the memory store/);
    expect(multiWorkerProblem(config, 1)).toBeNull();
  });

  it("count plan limits, team budgets, the per-IP limit and the admin throttle; not unlimited keys", () => {
    expect(hasStoredLimits(validateConfig({ models, keys: [{ name: "a", keyHash: "a".repeat(64) }] }))).toBe(false);
    expect(hasStoredLimits(validateConfig({ models, plans: { default: { concurrent: 2 } }, keys: [{ name: "a", keyHash: "a".repeat(64) }] }))).toBe(true);
    expect(hasStoredLimits(validateConfig({ models, teams: { t: { monthlyBudgetUsd: 5 } }, keys: [{ name: "a", keyHash: "a".repeat(64), team: "t" }] }))).toBe(true);
    expect(hasStoredLimits(validateConfig({ models, auth: { perIp: { requests: 5 } } }))).toBe(true);
    expect(hasStoredLimits(validateConfig({ models, auth: { adminKey: "x".repeat(16), required: true } }))).toBe(true);
  });

  it("are fine on Redis, and without limits", () => {
    expect(multiWorkerProblem(validateConfig({ ...limited, redis: { url: "redis://127.0.0.1:6379" } }), 4)).toBeNull();
    expect(multiWorkerProblem(validateConfig({ models }), 4)).toBeNull();
    expect(multiWorkerProblem(validateConfig({ ...limited, redis: { url: "redis://127.0.0.1:6379" }, limits: { store: "memory" } }), 2)).toMatch(/memory store/);
  });
});

describe("restart backoff", () => {
  it("doubles for workers that keep dying young, up to the cap, and starts afresh after a stable run", () => {
    const backoff = new RestartBackoff({ baseMs: 100, maxMs: 1_000, stableMs: 10_000 });
    expect([50, 50, 50, 50, 50, 50].map((lived) => backoff.onCrash(lived))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoff.onCrash(60_000)).toBe(100);
    expect(backoff.onCrash(10)).toBe(200);
  });
});
