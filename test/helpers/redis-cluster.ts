/**
 * Starts a real Redis Cluster for tests: six `redis-server --cluster-enabled yes` on free
 * 127.0.0.1 ports, joined by `redis-cli --cluster create --cluster-replicas 1` into three masters
 * with one replica each, with a short node timeout so a killed master's replica takes over
 * within seconds. Every server is stopped by its PID.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server";

const run = promisify(execFile);
const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
const CLI_BIN = process.env.REDIS_CLI_BIN ?? "redis-cli";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ClusterNode {
  port: number;
  proc: ChildProcess | null;
}

export interface TestRedisCluster {
  /** Seed URLs for the gateway's `redis.cluster`. */
  readonly urls: string[];
  readonly nodes: readonly ClusterNode[];
  /** Ports of the masters now, from CLUSTER NODES as a live node sees it. */
  masters(): Promise<number[]>;
  /** The master port serving `slot`. */
  masterOf(slot: number): Promise<number>;
  /** SIGKILLs the server on `port`. */
  kill(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok and `port`'s slots have a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run(CLI_BIN, ["-p", String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await cli(port, "PING")).trim() === "PONG";
  } catch {
    return false;
  }
}

export async function startRedisCluster(nodeTimeoutMs = 1_000): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "aigw-cluster-"));
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => stopNode(n)));
    rmSync(dir, { recursive: true, force: true });
  };
  const stopNode = async (node: ClusterNode) => {
    const proc = node.proc;
    node.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGKILL");
    await exited;
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", String(nodeTimeoutMs), "--save", "", "--appendonly", "no", "--dir", dir];
      nodes.push({ port, proc: spawn(REDIS_BIN, args, { stdio: "ignore" }) });
    }
    for (const node of nodes) {
      for (let i = 0; !(await answers(node.port)); i++) {
        if (i > 100) throw new Error(`redis-server on ${node.port} did not start`);
        await sleep(50);
      }
    }
    await run(CLI_BIN, ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"], { timeout: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }

  const live = () => nodes.filter((n) => n.proc !== null);
  const clusterNodes = async (): Promise<{ port: number; master: boolean; failed: boolean; slots: [number, number][] }[]> => {
    const text = await cli(live()[0].port, "CLUSTER", "NODES");
    return text
      .trim()
      .split("\n")
      .map((line) => {
        const fields = line.split(" ");
        const port = Number(fields[1].split("@")[0].split(":")[1]);
        const slots = fields.slice(8).filter((s) => /^\d/.test(s)).map((s) => {
          const [a, b] = s.split("-").map(Number);
          return [a, b ?? a] as [number, number];
        });
        return { port, master: fields[2].includes("master"), failed: fields[2].includes("fail"), slots };
      });
  };

  const handle: TestRedisCluster = {
    urls: nodes.map((n) => `redis://127.0.0.1:${n.port}`),
    nodes,
    async masters() {
      return (await clusterNodes()).filter((n) => n.master && !n.failed).map((n) => n.port);
    },
    async masterOf(slot) {
      const owner = (await clusterNodes()).find((n) => n.master && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!owner) throw new Error(`no live master for slot ${slot}`);
      return owner.port;
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port);
      if (node) await stopNode(node);
    },
    async waitHealthy(timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(live().map((n) => cli(n.port, "CLUSTER", "INFO").catch(() => "")));
        if (states.every((s) => s.includes("cluster_state:ok"))) {
          const masters = (await clusterNodes()).filter((n) => n.master && !n.failed);
          const covered = masters.reduce((sum, m) => sum + m.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0);
          if (covered === 16384 && masters.every((m) => live().some((n) => n.port === m.port))) return;
        }
        if (Date.now() > end) throw new Error(`redis cluster not healthy in ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop,
  };
  await handle.waitHealthy();
  return handle;
}
