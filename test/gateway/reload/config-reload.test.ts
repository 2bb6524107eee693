/**
 * Config reload in a running gateway, through a ConfigMap-style directory (the `..data` symlink
 * swap) and real HTTP: under load with streams in flight and zero failed requests, a stream on a
 * removed target finishing on it, a model added and served, keys added and removed, a broken
 * config refused while the old one keeps serving, and restart-only fields reported.
 */
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";
import { ConfigWatcher } from "../../../gateway/src/reload/config-watcher";
import { ConfigMapDir } from "../../helpers/configmap-dir";
import { eventually, startTestGateway, testConfig, type TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { metricValue } from "../traffic/http-helpers";

type Input = Partial<GatewayConfigInput> & Pick<GatewayConfigInput, "models">;

describe("config reload", () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: TestGateway;
  let cm: ConfigMapDir;
  let watcher: ConfigWatcher;

  const modelOn = (name: string, ...ups: MockUpstream[]) => ({ name, targets: ups.map((u) => ({ name: u.name, baseUrl: u.baseUrl })) });
  const reloads = async (result: "success" | "failure") => (await metricValue(gw.url, `aigw_config_reload_total{result="${result}"}`)) ?? 0;

  async function start(input: Input): Promise<void> {
    cm = new ConfigMapDir(testConfig(input));
    gw = await startTestGateway(input);
    watcher = new ConfigWatcher(cm.file, gw.gateway, gw.gateway.runtime.logger, { onSignal: false, debounceMs: 100, pollMs: 0 });
    watcher.start(readFileSync(cm.file, "utf8"));
  }

  /** Swaps the ConfigMap and waits until the gateway counted the reload. */
  async function swap(input: Input | string, result: "success" | "failure" = "success"): Promise<void> {
    const before = await reloads(result);
    cm.update(typeof input === "string" ? input : testConfig(input));
    await eventually(async () => (await reloads(result)) === before + 1, 10_000, 25);
  }

  const chat = (model: string, stream: boolean, key?: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hello" }] }),
    });

  beforeAll(async () => {
    a = await MockUpstream.start("a", { kind: "ok", tokens: 8, interTokenMs: 15 });
    b = await MockUpstream.start("b", { kind: "ok", tokens: 8, interTokenMs: 15 });
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });
  afterEach(async () => {
    watcher.stop();
    await gw.close();
    cm.remove();
  });

  it("reloads under load, streams included, with zero failed requests; new requests use the new targets", async () => {
    await start({ models: [modelOn("m", a)] });
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const stream = (i + n) % 2 === 0;
        try {
          const res = await chat("m", stream);
          const text = await res.text();
          if (res.status !== 200 || (stream && !text.includes("data: [DONE]")) || (!stream && !text.includes('"choices"'))) failures.push(`${res.status} ${text.slice(0, 200)}`);
        } catch (err) {
          failures.push(String(err));
        }
        done++;
      }
    };
    const load = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    const pause = () => new Promise((r) => setTimeout(r, 300));
    await pause();
    await swap({ models: [modelOn("m", b), modelOn("m2", a)] });
    await pause();
    const bBefore = b.completions.length;
    await swap({ models: [{ ...modelOn("m", a, b), strategy: "least-busy" }, modelOn("m2", a)], logging: { level: "info" } });
    await pause();
    await swap("models: [ this is not: valid", "failure");
    await pause();
    // New connection pools (their settings changed): the old ones drain.
    await swap({ models: [modelOn("m", b)], upstreamDefaults: { connectionsPerTarget: 8, maxAttempts: 2 } });
    await pause();
    await swap({ models: [modelOn("m", a)] });
    await pause();
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(50);
    expect(b.completions.length).toBeGreaterThan(bBefore);
    expect(await reloads("success")).toBe(4);
    expect(await reloads("failure")).toBe(1);
    // The last config routes m to a only.
    const last = await chat("m", false);
    expect(last.headers.get("x-gateway-target")).toBe("a");
  });

  it("lets a stream on a removed target finish there, while new requests go to the new target", async () => {
    a.behavior = { kind: "ok", tokens: 20, interTokenMs: 60 };
    try {
      await start({ models: [modelOn("m", a)] });
      const client = new OpenAI({ apiKey: "unused", baseURL: `${gw.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      await swap({ models: [modelOn("m", b)] });
      const fresh = await chat("m", false);
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get("x-gateway-target")).toBe("b");
      let chunks = 1;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks++;
      expect(chunks).toBeGreaterThanOrEqual(20);
      expect(a.streamsCompleted).toBeGreaterThanOrEqual(1);
    } finally {
      a.behavior = { kind: "ok", tokens: 8, interTokenMs: 15 };
    }
  });

  it("serves a model added without a restart, and lists it", async () => {
    await start({ models: [modelOn("m", a)] });
    expect((await chat("new-model", false)).status).toBe(404);
    await swap({ models: [modelOn("m", a), modelOn("new-model", b)] });
    const res = await chat("new-model", false);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gateway-target")).toBe("b");
    const list = (await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["m", "new-model"]);
    expect(gw.logs().find((l) => l.event === "config_reloaded")).toMatchObject({ trigger: "file", models: ["m", "new-model"], restartNeeded: [] });
  });

  it("adds and removes keys and changes plans live", async () => {
    const keys = (rpm: number, ...names: string[]) => ({ plans: { p: { requestsPerMinute: rpm } }, keys: names.map((name) => ({ name, key: `sk-${name}-0123456789`, plan: "p" })) });
    await start({ models: [modelOn("m", a)], ...keys(100, "one") });
    expect((await chat("m", false, "sk-two-0123456789")).status).toBe(401);
    await swap({ models: [modelOn("m", a)], ...keys(1, "two") });
    expect((await chat("m", false, "sk-two-0123456789")).status).toBe(200);
    expect((await chat("m", false, "sk-one-0123456789")).status).toBe(401);
    // The new plan allows one request a minute.
    expect((await chat("m", false, "sk-two-0123456789")).status).toBe(429);
  });

  it("refuses a broken config, logs why, and keeps serving the old one", async () => {
    await start({ models: [modelOn("m", a)] });
    await swap("models: [ this is: not yaml", "failure");
    await swap({ models: [{ name: "m", fallbacks: ["ghost"], targets: [{ name: "a", baseUrl: a.baseUrl }] }] }, "failure");
    await swap({ models: [] } as unknown as Input, "failure");
    const failed = gw.logs().filter((l) => l.event === "config_reload_failed");
    expect(failed).toHaveLength(3);
    expect(String((failed[0].problems as string[])[0])).toMatch(/^YAML: /);
    expect(failed[1].problems).toEqual(['models[0].fallbacks[0]: unknown model "ghost"']);
    expect(failed[1].level).toBe("error");
    const res = await chat("m", true);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("data: [DONE]");
    expect(await reloads("success")).toBe(0);
    // Fixing it applies it.
    await swap({ models: [modelOn("m", a), modelOn("fixed", b)] });
    expect((await chat("fixed", false)).status).toBe(200);
  });

  it("reports fields only a restart applies, and applies the rest", async () => {
    await start({ models: [modelOn("m", a)] });
    await swap({ models: [modelOn("m", a), modelOn("x", b)], server: { shutdownGraceMs: 5, headersTimeoutMs: 2000 } });
    expect(gw.logs().find((l) => l.event === "config_restart_needed")).toMatchObject({ fields: ["server.headersTimeoutMs", "server.shutdownGraceMs"] });
    expect(await metricValue(gw.url, "aigw_config_restart_pending")).toBe(1);
    expect((await chat("x", false)).status).toBe(200);
    const lastSuccess = await metricValue(gw.url, "aigw_config_last_reload_success_timestamp_seconds");
    expect(lastSuccess).toBeGreaterThan(Date.now() / 1000 - 60);
    // Back to the started values: nothing pending.
    await swap({ models: [modelOn("m", a)] });
    expect(await metricValue(gw.url, "aigw_config_restart_pending")).toBe(0);
  });
});
