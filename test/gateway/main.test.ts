/** The real entry point (`npm start` runs dist/gateway/src/main.js): default config, config sources, start-up errors. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chat, json, postJson, readStream, sseData } from "../helpers/http-client";

const MAIN = resolve(__dirname, "../../dist/gateway/src/main.js");
const PROVIDER_KEYS = ["OPENAI_API_KEY", "DEEPSEEK_API_KEY", "GEMINI_API_KEY", "GATEWAY_CONFIG", "PORT", "HOST", "GATEWAY_ALLOW_OPEN_PROXY", "ADMIN_PORT", "ADMIN_HOST"];

interface Run {
  url: Promise<string>;
  exited: Promise<number | null>;
  output(): string;
  kill(): void;
}

/** Runs main.js with a clean environment (no provider keys, no GATEWAY_CONFIG) plus `env`. */
function runMain(args: string[], env: Record<string, string>): Run {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !PROVIDER_KEYS.includes(k)));
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d));
  child.stderr.on("data", (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const url = new Promise<string>((found, fail) => {
    const timer = setInterval(() => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearInterval(timer);
        found(match[1]);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      fail(new Error(`exited with ${code}: ${output}`));
    });
  });
  url.catch(() => {});
  return { url, exited, output: () => output, kill: () => void child.kill("SIGTERM") };
}

describe("main.js", () => {
  let dir: string;
  const running: Run[] = [];
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "aigw-main-"))));
  afterEach(async () => {
    for (const run of running.splice(0)) {
      run.kill();
      await run.exited;
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves the embedded default config's mock models with no keys and no config file", async () => {
    const run = runMain([], { PORT: "0", HOST: "127.0.0.1" });
    running.push(run);
    const url = await run.url;
    const models = await json(await fetch(`${url}/v1/models`));
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(["mock-gpt", "mock-mini", "mock-embedding", "mock-claude"]);
    const plain = await chat(url, { model: "mock-gpt" });
    expect(plain.status).toBe(200);
    expect((await json(plain)).choices[0].message.content).toContain("gateway");
    const stream = sseData(await readStream(await chat(url, { model: "mock-gpt", stream: true })));
    expect(stream.at(-1)).toBe("[DONE]");
    expect(stream.length).toBeGreaterThan(10);
    expect((await postJson(url, "/v1/completions", { model: "mock-mini", prompt: "x" })).status).toBe(200);
    expect((await json(await postJson(url, "/v1/embeddings", { model: "mock-embedding", input: "x" }))).data).toHaveLength(1);
    // Anthropic's Messages API on the mock Claude (native) and on an OpenAI mock (translated), streams included.
    const message = await json(await postJson(url, "/v1/messages", { model: "mock-claude", max_tokens: 50, messages: [{ role: "user", content: "Hello" }] }));
    expect([message.type, message.content[0].type, message.stop_reason]).toEqual(["message", "text", "end_turn"]);
    const events = await readStream(await postJson(url, "/v1/messages", { model: "mock-gpt", max_tokens: 50, stream: true, messages: [{ role: "user", content: "Hello" }] }));
    expect(events).toMatch(/^event: message_start\n/);
    expect(events).toMatch(/event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/);
    expect((await json(await chat(url, { model: "mock-claude" }))).choices[0].message.content).toContain("gateway");
    run.kill();
    expect(await run.exited).toBe(0);
  });

  it("refuses to serve a real provider without client keys beyond loopback, naming the provider, never its key", async () => {
    const run = runMain([], { PORT: "0", HOST: "0.0.0.0", OPENAI_API_KEY: "sk-test-openai-never-printed", GEMINI_API_KEY: "gm-test-never-printed" });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain("HOST=0.0.0.0: the embedded config has no client keys, so it would serve OPENAI_API_KEY, GEMINI_API_KEY's paid models to anyone");
    expect(run.output()).toContain("GATEWAY_ALLOW_OPEN_PROXY=1");
    expect(run.output()).not.toMatch(/never-printed/);
    // Mock models only: nothing to protect, it starts on any address.
    const mocks = runMain([], { PORT: "0", HOST: "0.0.0.0" });
    running.push(mocks);
    await mocks.url;
    expect(mocks.output()).toMatch(/"event":"embedded_config","providers":\[\],"host":"0.0.0.0","openProxy":false,"msg":"embedded config: mock models only"/);
  });

  it("serves a real provider on loopback, or beyond it with GATEWAY_ALLOW_OPEN_PROXY=1, and logs which providers it added", async () => {
    const local = runMain([], { PORT: "0", HOST: "127.0.0.1", DEEPSEEK_API_KEY: "ds-test-never-printed" });
    running.push(local);
    const models = await json(await fetch(`${await local.url}/v1/models`));
    expect(models.data.map((m: { id: string }) => m.id)).toContain("deepseek-chat");
    expect(local.output()).toMatch(/"level":"info",.*"event":"embedded_config","providers":\["DEEPSEEK_API_KEY"\],"host":"127.0.0.1","openProxy":false/);
    const open = runMain([], { PORT: "0", HOST: "0.0.0.0", DEEPSEEK_API_KEY: "ds-test-never-printed", GATEWAY_ALLOW_OPEN_PROXY: "1" });
    running.push(open);
    await open.url;
    expect(open.output()).toMatch(/"level":"warn",.*"event":"embedded_config","providers":\["DEEPSEEK_API_KEY"\],"host":"0.0.0.0","openProxy":true/);
    expect(local.output() + open.output()).not.toMatch(/never-printed/);
  });

  it("binds the embedded config's admin listener to loopback: /metrics there, not on the public port, even when the public port is on every interface", async () => {
    const run = runMain([], { PORT: "0", HOST: "0.0.0.0" });
    running.push(run);
    const url = await run.url;
    const adminUrl = /"adminUrl":"(http:\/\/[^"]+)"/.exec(run.output())?.[1] ?? "";
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect(await (await fetch(`${adminUrl}/metrics`)).text()).toMatch(/^# HELP aigw_/m);
    // 127.0.0.2 is this machine too: the public listener (0.0.0.0) answers there, the admin
    // listener (bound to 127.0.0.1 only) refuses it, as it refuses every other interface.
    const publicPort = new URL(url).port;
    const adminPort = new URL(adminUrl).port;
    expect((await fetch(`http://127.0.0.2:${publicPort}/healthz`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.2:${adminPort}/metrics`)).rejects.toThrow(/fetch failed/);
    // ADMIN_HOST and ADMIN_PORT move it.
    const moved = runMain([], { PORT: "0", HOST: "127.0.0.1", ADMIN_HOST: "0.0.0.0", ADMIN_PORT: "0" });
    running.push(moved);
    await moved.url;
    const movedAdmin = /"adminUrl":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(moved.output())?.[1];
    expect((await fetch(`http://127.0.0.2:${movedAdmin}/metrics`)).status).toBe(200);
  });

  it("reads the file named by GATEWAY_CONFIG", async () => {
    const file = join(dir, "env.yaml");
    writeFileSync(file, "server:\n  host: 127.0.0.1\n  port: 0\nmodels:\n  - name: from-env-file\n    targets:\n      - name: t\n        baseUrl: mock://t\n");
    const run = runMain([], { GATEWAY_CONFIG: file });
    running.push(run);
    const models = await json(await fetch(`${await run.url}/v1/models`));
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(["from-env-file"]);
  });

  it("refuses to start on an invalid config, naming the field path, with exit code 1", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "models:\n  - name: m\n    strategy: fastest\n    targets:\n      - name: t\n        baseUrl: mock://t\n        apiKey: ${MISSING_KEY_FOR_TEST}\n");
    const missing = runMain(["--config", file], {});
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toContain("models[0].targets[0].apiKey: environment variable MISSING_KEY_FOR_TEST is not set");
    const invalid = runMain(["--config", file], { MISSING_KEY_FOR_TEST: "sk-x" });
    expect(await invalid.exited).toBe(1);
    expect(invalid.output()).toMatch(/invalid gateway config:\n {2}- models\[0\]\.strategy: /);
    expect(invalid.output()).not.toContain("sk-x");
  });

  it("refuses a config file that does not exist", async () => {
    const run = runMain(["--config", join(dir, "absent.yaml")], {});
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain("absent.yaml: ENOENT");
  });

  it("refuses a malformed GATEWAY_HEAP_GROWING_PERCENT with exit code 1, and serves with 0 (V8's defaults)", async () => {
    const bad = runMain([], { PORT: "0", HOST: "127.0.0.1", GATEWAY_HEAP_GROWING_PERCENT: "lots" });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('GATEWAY_HEAP_GROWING_PERCENT must be an integer from 0 to 400 (0 = V8\'s default), got "lots"');
    const off = runMain([], { PORT: "0", HOST: "127.0.0.1", GATEWAY_HEAP_GROWING_PERCENT: "0" });
    running.push(off);
    expect((await chat(await off.url, { model: "mock-gpt" })).status).toBe(200);
  });
});
