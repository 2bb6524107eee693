/**
 * The processes the benchmark starts (mock upstream, proxies, Redis, load generators): spawned
 * with their output in files (a pipe nobody reads would block them), remembered by PID, and
 * killed by PID — on stop, on error, and on the harness's own exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readFileSync, statSync } from "node:fs";
import { createConnection, createServer } from "node:net";

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Where stdout and stderr go. */
  readonly logFile: string;
  /** Set once the process exited (code or signal). */
  exited: string | null;
  output(): string;
}

const live = new Set<Managed>();
let hooked = false;

/** Kills every process still running, at once, by PID (exit handlers must be synchronous). */
export function killAllSync(): void {
  for (const proc of live) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAllSync();
      process.exit(130);
    });
  }
}

export function startProcess(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): Managed {
  hookExit();
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const proc: Managed = {
    name,
    pid: child.pid,
    child,
    logFile,
    exited: null,
    output: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
  };
  child.once("exit", (code, signal) => {
    proc.exited = signal ?? String(code);
    live.delete(proc);
  });
  child.once("error", (err) => {
    proc.exited = err.message;
    live.delete(proc);
  });
  live.add(proc);
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(proc: Managed, graceMs = 3_000): Promise<void> {
  if (proc.exited !== null) return;
  const gone = new Promise<void>((resolve) => proc.child.once("exit", () => resolve()));
  try {
    process.kill(proc.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }, graceMs);
  await gone;
  clearTimeout(timer);
}

/** Runs a command to completion with output captured (short-lived tools: wrk, haproxy -v). */
export function runToCompletion(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  hookExit();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const proc: Managed = { name: command, pid: child.pid ?? -1, child, logFile: "", exited: null, output: () => stdout + stderr };
    if (child.pid !== undefined) live.add(proc);
    const timer = setTimeout(() => {
      try {
        process.kill(proc.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      live.delete(proc);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port the OS just handed out on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check` passes; throws after `timeoutMs` or when `proc` exits first. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, proc?: Managed): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc && proc.exited !== null) throw new Error(`${proc.name} exited (${proc.exited}) before ${what}:\n${proc.output().slice(-2000)}`);
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${proc ? `:\n${proc.output().slice(-2000)}` : ""}`);
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Is `command` on the PATH (or an existing absolute path)? */
export function which(command: string): string | null {
  const dirs = command.includes("/") ? [""] : (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    const full = dir ? `${dir}/${command}` : command;
    try {
      accessSync(full, constants.X_OK);
      if (statSync(full).isFile()) return full;
    } catch {
      // not here
    }
  }
  return null;
}
