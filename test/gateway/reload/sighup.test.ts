/**
 * The compiled gateway as a real process: SIGHUP reloads its config file (a model added is
 * served, no restart: same pid, same port), a broken file is refused and the process keeps
 * serving, and SIGHUP never ends the process (its default action would).
 */
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { eventually, spawnGateway, testConfig, type SpawnedGateway } from "../../helpers/gateway-harness";

describe("SIGHUP", () => {
  let gw: SpawnedGateway | null = null;
  afterEach(async () => {
    gw?.kill("SIGTERM");
    await gw?.exited;
    gw = null;
  });

  const ask = (url: string, model: string) =>
    fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }) });

  it("reloads the config file in place, refusing a broken one", async () => {
    const config = (names: string[]) => testConfig({ models: names.map((name) => ({ name, targets: [{ name: "t", baseUrl: "mock://t" }] })), logging: { level: "info" } });
    gw = await spawnGateway(config(["a"]));
    const { url, child } = gw;
    expect((await ask(url, "b")).status).toBe(404);

    writeFileSync(gw.configFile, "models: [ broken");
    child.kill("SIGHUP");
    await eventually(() => gw!.output().includes('"event":"config_reload_failed"'), 10_000);
    expect((await ask(url, "a")).status).toBe(200);

    writeFileSync(gw.configFile, stringify(config(["a", "b"])));
    child.kill("SIGHUP");
    await eventually(async () => (await ask(url, "b")).status === 200, 10_000, 100);
    // Logs are written asynchronously.
    await eventually(() => /"event":"config_reloaded","trigger":"(signal|file)"/.test(gw!.output()), 10_000);
    // Signalled again with the file unchanged: reloaded anyway (a signal always reloads), still the same process.
    child.kill("SIGHUP");
    await eventually(() => /"event":"config_reloaded","trigger":"signal"/.test(gw!.output()), 10_000);
    expect(child.exitCode).toBeNull();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/aigw_config_reload_total\{result="failure"\} 1/);
    expect(metrics).toMatch(/aigw_config_reload_total\{result="success"\} [1-9]/);
  });

  it("does not end a process running the embedded config", async () => {
    const { spawn } = await import("node:child_process");
    const { resolve } = await import("node:path");
    const child = spawn(process.execPath, [resolve(__dirname, "../../../dist/gateway/src/main.js")], { env: { ...process.env, PORT: "0", HOST: "127.0.0.1", OPENAI_API_KEY: "", DEEPSEEK_API_KEY: "", GEMINI_API_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    try {
      await eventually(() => output.includes("gateway listening"), 15_000);
      child.kill("SIGHUP");
      await eventually(() => output.includes("no file to reload"), 10_000);
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
