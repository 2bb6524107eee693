/**
 * Starts a gateway in-process on 127.0.0.1:0 from a config object, capturing every log line,
 * and spawns the compiled gateway as a real process for signal and multi-replica tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { stringify } from "yaml";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { validateConfig } from "../../gateway/src/config/validate";
import { startGateway, type Gateway, type GatewayOptions } from "../../gateway/src/gateway";
import { NODE_HEAP_FLAGS } from "../../gateway/src/heap";

export interface TestGateway {
  gateway: Gateway;
  url: string;
  /** Every log line so far, parsed. */
  logs(): Record<string, unknown>[];
  /** Every log line so far, raw text. */
  rawLogs(): string;
  close(): Promise<void>;
}

export function testConfig(input: Partial<GatewayConfigInput> & Pick<GatewayConfigInput, "models">): GatewayConfigInput {
  return {
    ...input,
    // Lag and accept-delay shedding off unless a test turns them on: an in-process gateway shares
    // jest's event loop, so the lag and delays it would see are the test's own busy work.
    server: { host: "127.0.0.1", port: 0, ...input.server, overload: { maxEventLoopLagMs: 0, maxAcceptDelayMs: 0, ...input.server?.overload } },
    logging: { level: "debug", ...input.logging },
    healthCheck: { enabled: false, ...input.healthCheck },
  };
}

export async function startTestGateway(input: Partial<GatewayConfigInput> & Pick<GatewayConfigInput, "models">, options: Omit<GatewayOptions, "logDestination"> = {}): Promise<TestGateway> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const gateway = await startGateway(validateConfig(testConfig(input)), { ...options, logDestination: sink });
  return {
    gateway,
    url: gateway.url,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLogs: () => lines.join("\n"),
    close: () => gateway.shutdown(0),
  };
}

export interface SpawnedGateway {
  child: ChildProcess;
  url: string;
  /** The YAML file it was started with (tests rewrite it to reload). */
  configFile: string;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

const MAIN = resolve(__dirname, "../../dist/gateway/src/main.js");

/** Runs the compiled gateway (built by the jest global setup, or another build's `main`) with a YAML config. */
export async function spawnGateway(input: GatewayConfigInput, env: NodeJS.ProcessEnv = {}, main: string = MAIN): Promise<SpawnedGateway> {
  const dir = mkdtempSync(join(tmpdir(), "aigw-"));
  const file = join(dir, "config.yaml");
  writeFileSync(file, stringify(input));
  const child = spawn(process.execPath, [...NODE_HEAP_FLAGS, main, "--config", file], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${output}`));
    });
  });
  return { child, url, configFile: file, output: () => output, exited, kill: (signal = "SIGTERM") => void child.kill(signal) };
}

/** Ends a spawned gateway the test left running (SIGKILL), and waits for it to exit. */
export async function killIfRunning(gw: SpawnedGateway | null | undefined): Promise<void> {
  if (!gw || gw.child.exitCode !== null || gw.child.signalCode !== null) return;
  gw.kill("SIGKILL");
  await gw.exited;
}

/** Polls until `check` passes or the time is up (for state that changes in the background). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error("condition not met in time");
}
