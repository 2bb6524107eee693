/**
 * `npm start`, the documented command, stops cleanly: a SIGTERM or Ctrl-C (SIGINT) to its
 * process group, or a SIGTERM to npm alone (what a supervisor that signals one PID sends), drains
 * the gateway and leaves no process behind within 10 s, npm exiting 0. The script execs node, so
 * no shell sits between npm and the gateway to swallow the signal. `--ignore-scripts` skips the
 * prestart build (the jest global setup built dist already); the signal path is the same.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { eventually } from "../helpers/gateway-harness";

const ROOT = resolve(__dirname, "../..");

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm start under signals", () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child?.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
    child = null;
  });

  async function startNpm(): Promise<{ npm: ChildProcess; url: string; exited: Promise<[number | null, NodeJS.Signals | null]>; output(): string }> {
    const dir = mkdtempSync(join(tmpdir(), "aigw-npm-"));
    const file = join(dir, "gateway.yaml");
    writeFileSync(file, "server: { host: 127.0.0.1, port: 0, shutdownGraceMs: 2000 }\nhealthCheck: { enabled: false }\nmodels:\n  - name: m\n    targets: [{ name: t, baseUrl: \"mock://t\" }]\n");
    // Its own process group, as a terminal or a supervisor starts it.
    const npm = spawn("npm", ["start", "--ignore-scripts", "--", "--config", file], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    child = npm;
    let output = "";
    npm.stdout!.on("data", (d: Buffer) => (output += d));
    npm.stderr!.on("data", (d: Buffer) => (output += d));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((done) => npm.once("exit", (code, signal) => done([code, signal])));
    let url = "";
    await eventually(() => {
      url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? "";
      return url !== "";
    }, 60_000, 50);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    return { npm, url, exited, output: () => output };
  }

  it.each<[string, NodeJS.Signals, "group" | "npm"]>([
    ["SIGTERM to the process group", "SIGTERM", "group"],
    ["Ctrl-C (SIGINT to the process group)", "SIGINT", "group"],
    ["SIGTERM to npm alone", "SIGTERM", "npm"],
  ])("%s: the gateway drains and every process of the group is gone within 10 s", async (_name, signal, to) => {
    const { npm, exited, output } = await startNpm();
    const pgid = npm.pid!;
    process.kill(to === "group" ? -pgid : pgid, signal);
    await eventually(() => !groupAlive(pgid), 10_000, 50);
    expect(await exited).toEqual([0, null]);
    expect(output()).toMatch(/"msg":"stopped"/);
  }, 90_000);
});
