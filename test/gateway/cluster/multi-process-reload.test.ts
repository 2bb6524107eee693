/**
 * Multi-process mode and config reloads (the real entry point, WORKERS=2, SIGHUP to the primary):
 * every worker takes a good config, and a config that adds limits on the memory store is refused
 * by every worker, as it would be at start. Before, the reload was taken: each worker enforced
 * the new key's limit on its own, so the key got N times its rate.
 */
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, testConfig, type SpawnedGateway, killIfRunning } from "../../helpers/gateway-harness";
import { chatBody } from "../../chaos/support/http";
import { childPids, parseLines, spawnCluster } from "./support";
import { postOnNewConnection } from "./new-connection";

const TEST_MS = 120_000;
const KEY = "sk-reload-cluster-key-0123456789";
const OPEN = { name: "open", key: "sk-reload-cluster-open-0123456789" };

describe("multi-process config reload", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway | null = null;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
  });
  afterAll(async () => {
    await killIfRunning(gw);
    await upstream.stop();
  });

  it("every worker takes a good config; a config adding memory-store limits is refused by each", async () => {
    const base = testConfig({ logging: { level: "info" }, auth: { required: true }, keys: [OPEN], models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] });
    gw = await spawnCluster(base, 2);
    const g = gw;
    const events = (name: string) => parseLines(g.output()).json.filter((l) => l.event === name);

    // A good change (a second model): both workers reload.
    writeFileSync(g.configFile, stringify({ ...base, models: [...base.models, { name: "m2", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] }));
    g.kill("SIGHUP");
    await eventually(() => events("config_reloaded").length >= 2, 15_000);
    const m2 = await Promise.all(Array.from({ length: 10 }, (_, i) => postOnNewConnection(g.url, chatBody("m2"), `m2-${i}`, { authorization: `Bearer ${OPEN.key}` })));
    expect(m2.every((s) => s === 200)).toBe(true);

    // A key limited to 2 a minute on the memory store: each of 2 workers would admit 2.
    writeFileSync(g.configFile, stringify({ ...base, keys: [OPEN, { name: "limited", key: KEY, limits: { requestsPerMinute: 2 } }] }));
    g.kill("SIGHUP");
    await eventually(() => events("config_reload_failed").length >= 2, 15_000);
    for (const line of events("config_reload_failed")) expect(JSON.stringify(line.problems)).toMatch(/server\.workers: 2 workers with limits on the memory store/);
    // The running config stays: the new key is unknown.
    const withKey = await Promise.all(Array.from({ length: 8 }, (_, i) => postOnNewConnection(g.url, chatBody("m"), `k-${i}`, { authorization: `Bearer ${KEY}` })));
    expect(withKey.filter((s) => s === 200)).toEqual([]);
    expect(withKey.every((s) => s === 401)).toBe(true);
    expect(events("config_reloaded")).toHaveLength(2);

    // A worker that restarts now reads the refused file: it does not start on it; its sibling serves.
    const [victim, survivor] = childPids(g.child.pid!);
    process.kill(victim, "SIGKILL");
    await eventually(() => g.output().includes("server.workers: 2 workers with limits on the memory store") && events("worker_exited").length >= 2, 15_000);
    expect(childPids(g.child.pid!)).toContain(survivor);
    const still = await Promise.all(Array.from({ length: 6 }, (_, i) => postOnNewConnection(g.url, chatBody("m"), `s-${i}`, { authorization: `Bearer ${KEY}` })));
    expect(still.every((s) => s === 401)).toBe(true);
  }, TEST_MS);

  it("a SIGHUP while a worker is starting (a restart) does not kill it: it takes the file once it runs", async () => {
    await killIfRunning(gw);
    const base = testConfig({ logging: { level: "info" }, auth: { required: true }, keys: [OPEN], models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] });
    gw = await spawnCluster(base, 2);
    const g = gw;
    const events = (name: string) => parseLines(g.output()).json.filter((l) => l.event === name);
    const [victim, survivor] = childPids(g.child.pid!);
    writeFileSync(g.configFile, stringify({ ...base, models: [...base.models, { name: "m2", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] }));
    process.kill(victim, "SIGKILL");
    // The replacement is forked 250 ms after the exit; signal the primary the moment it exists.
    let replacement: number | undefined;
    await eventually(() => (replacement = childPids(g.child.pid!).find((pid) => pid !== victim && pid !== survivor)) !== undefined, 15_000, 2);
    g.kill("SIGHUP");
    await eventually(() => events("config_reloaded").length >= 1 && childPids(g.child.pid!).length === 2, 15_000);
    // Give a killed replacement time to be noticed, then check nobody died of the signal.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(events("worker_exited").map((l) => l.signal)).toEqual(["SIGKILL"]);
    expect(childPids(g.child.pid!)).toEqual([survivor, replacement!].sort((a, b) => a - b));
    const m2 = await Promise.all(Array.from({ length: 10 }, (_, i) => postOnNewConnection(g.url, chatBody("m2"), `m2-${i}`, { authorization: `Bearer ${OPEN.key}` })));
    expect(m2.every((s) => s === 200)).toBe(true);
  }, TEST_MS);
});
