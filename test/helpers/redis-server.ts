/**
 * Starts a real `redis-server` for tests on a free 127.0.0.1 port, with no persistence, and
 * stops it by PID. `stop()` then `start()` again reuses the same port, for outage tests; a
 * start only counts once the server on the port reports our child's PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "../../bench/lib/processes";

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** (Re)starts the server on the same port and waits for PONG. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL by default, like a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly running: boolean;
}

/** A port the OS just handed out; free unless someone grabs it in between (start() retries). */
export { freePort };

/**
 * True when the server on `port` answers and is the process `pid` (INFO's process_id), so a
 * server someone else started on a reused port is never mistaken for ours.
 */
function answersAs(port: number, pid: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write(password ? `AUTH ${password}\r\nINFO server\r\n` : "INFO server\r\n"));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      const match = /process_id:(\d+)/.exec(data);
      if (match) done(Number(match[1]) === pid);
      else if (data.startsWith("-")) done(false);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startRedis(options: { password?: string; /** Extra server arguments, e.g. `["--maxmemory", "4mb"]`. */ args?: string[] } = {}): Promise<TestRedis> {
  let port = await freePort();
  let child: ChildProcess | null = null;

  async function launch(): Promise<boolean> {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    if (options.password) args.push("--requirepass", options.password);
    if (options.args) args.push(...options.args);
    const proc = spawn(REDIS_BIN, args, { stdio: "ignore" });
    let exited = false;
    proc.on("exit", () => {
      exited = true;
    });
    child = proc;
    for (let i = 0; i < 100 && !exited; i++) {
      if (proc.pid !== undefined && (await answersAs(port, proc.pid, options.password))) return true;
      await sleep(50);
    }
    if (!exited) proc.kill("SIGKILL");
    child = null;
    return false;
  }

  const handle: TestRedis = {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get running() {
      return child !== null;
    },
    async start() {
      if (child) return;
      // The port may be briefly taken (TIME_WAIT is fine for redis, another process is not).
      for (let attempt = 0; attempt < 20; attempt++) {
        if (await launch()) return;
        await sleep(100);
      }
      throw new Error(`redis-server did not start on port ${port}`);
    },
    async stop(signal: NodeJS.Signals = "SIGKILL") {
      const proc = child;
      if (!proc) return;
      child = null;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill(signal);
      await exited;
    },
  };
  // The first start may pick a new port if the free one was taken meanwhile.
  for (let attempt = 0; ; attempt++) {
    if (await launch()) return handle;
    if (attempt >= 5) throw new Error("redis-server did not start");
    port = await freePort();
  }
}
