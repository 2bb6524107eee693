/**
 * Starting and stopping what the benchmark measures: the mock upstream (one process, three
 * ports), and each target in front of it (direct, HAProxy, the bare undici proxy, the gateway
 * in its configurations, with Redis for the Redis store), each on 127.0.0.1 and a free port.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { gatewayConfig, type GatewayVariant } from "./gateway-configs";
import { haproxyConfig } from "./haproxy";
import { NODE_HEAP_FLAGS } from "../../gateway/src/heap";
import { canConnect, freePort, startProcess, stopProcess, waitUntil, type Managed } from "./processes";
import type { TargetName } from "./results";

export interface BenchPaths {
  /** Repository root. */
  root: string;
  /** Compiled bench scripts (dist/bench; the gateway compiled alongside, in ../gateway/src). */
  dist: string;
  /** Scratch directory for configs, scripts and logs of this run. */
  work: string;
}

export interface Tools {
  wrk: string | null;
  haproxy: string | null;
  redis: string | null;
}

export interface TargetOptions {
  haproxyThreads: number;
  clusterWorkers: number;
  /** `bench`: dist/bench/gateway-main.js (traffic control wired); `main`: dist/gateway/src/main.js. */
  gatewayEntry: "bench" | "main";
  /** Node flags for Node targets (gateway and bare undici); default: the gateway's NODE_HEAP_FLAGS, as `npm start` and the image run it. */
  nodeFlags?: readonly string[];
  /** Extra environment for Node targets (BENCH_CPU_PROFILE). */
  env?: NodeJS.ProcessEnv;
  /** Upstream connections per target for the bare proxy (256 unless set; long streams need one each). */
  upstreamConnections?: number;
  /** Applied to the gateway's config last (the stream benchmark's overload and pool settings). */
  gatewayOverrides?: (config: GatewayConfigInput) => GatewayConfigInput;
}

export interface RunningTarget {
  name: TargetName;
  /** The process whose tree is measured. */
  proc: Managed;
  url: string;
  description: string;
  redis: Managed | null;
  redisPort: number | null;
  /** Where the target's stdout/stderr (and so the gateway's access log) go. */
  logFile: string;
  store: "memory" | "redis" | null;
  stop(): Promise<void>;
}

export const CHAT_PATH = "/v1/chat/completions";

async function httpOk(url: string, init?: RequestInit): Promise<boolean> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

export async function startMock(paths: BenchPaths, count = 3): Promise<{ proc: Managed; ports: number[] }> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const args = [join(paths.dist, "mock-upstream.js"), ...ports.flatMap((p) => ["--port", String(p)])];
  const proc = startProcess("mock-upstream", process.execPath, args, join(paths.work, "mock-upstream.log"));
  for (const port of ports) await waitUntil(`mock upstream on ${port}`, () => httpOk(`http://127.0.0.1:${port}/v1/models`), 10_000, proc);
  return { proc, ports };
}

async function startRedis(paths: BenchPaths, redisBin: string): Promise<{ proc: Managed; port: number }> {
  const port = await freePort();
  const proc = startProcess("redis-server", redisBin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"], join(paths.work, "redis.log"));
  await waitUntil(`redis on ${port}`, () => canConnect(port), 10_000, proc);
  return { proc, port };
}

const VARIANTS: Partial<Record<TargetName, GatewayVariant>> = {
  "gateway-minimal": "minimal",
  "gateway-full-memory": "full-memory",
  "gateway-full-redis": "full-redis",
  // Several workers need the shared store: the memory store would give each worker every limit.
  "gateway-cluster": "full-redis",
};

export function isGateway(name: TargetName): boolean {
  return VARIANTS[name] !== undefined;
}

/**
 * Starts `name` in front of the mock; resolves once a keyed POST answers 200.
 * `readyHeaders` is what a client sends (the key).
 */
export async function startTarget(name: TargetName, paths: BenchPaths, tools: Tools, mockPorts: number[], options: TargetOptions, readyBody: string, readyHeaders: Record<string, string>): Promise<RunningTarget> {
  const logFile = join(paths.work, `${name}.log`);
  const ready = (url: string, proc: Managed) =>
    waitUntil(`${name} to answer`, () => httpOk(url + CHAT_PATH, { method: "POST", headers: { "content-type": "application/json", ...readyHeaders }, body: readyBody }), 60_000, proc);

  if (name === "direct") throw new Error("direct has no process of its own");

  if (name === "haproxy") {
    if (!tools.haproxy) throw new Error("haproxy is not installed");
    const port = await freePort();
    const cfg = join(paths.work, "haproxy.cfg");
    writeFileSync(cfg, haproxyConfig({ port, upstreamPorts: mockPorts, threads: options.haproxyThreads }));
    const proc = startProcess("haproxy", tools.haproxy, ["-f", cfg, "-db"], logFile);
    const url = `http://127.0.0.1:${port}`;
    await ready(url, proc);
    return { name, proc, url, logFile, redis: null, redisPort: null, store: null, description: `HAProxy, nbthread ${options.haproxyThreads}, roundrobin over 3 servers, option httpchk, retries 3, option redispatch, stick-table http_req_rate limit 1e9/10s, logs off (config: bench/lib/haproxy.ts)`, stop: () => stopProcess(proc) };
  }

  if (name === "bare-undici") {
    const port = await freePort();
    const args = [...(options.nodeFlags ?? NODE_HEAP_FLAGS), join(paths.dist, "bare-undici-proxy.js"), "--port", String(port), ...mockPorts.flatMap((p) => ["--upstream", `http://127.0.0.1:${p}`]), ...(options.upstreamConnections ? ["--connections", String(options.upstreamConnections)] : [])];
    const proc = startProcess("bare-undici", process.execPath, args, logFile, options.env);
    const url = `http://127.0.0.1:${port}`;
    await ready(url, proc);
    return { name, proc, url, logFile, redis: null, redisPort: null, store: null, description: "node:http + undici Pool.stream, round-robin over 3 pools, nothing else (bench/bare-undici-proxy.ts)", stop: () => stopProcess(proc) };
  }

  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown target ${name}`);
  let redis: { proc: Managed; port: number } | null = null;
  if (variant === "full-redis") {
    if (!tools.redis) throw new Error("redis-server is not installed");
    redis = await startRedis(paths, tools.redis);
  }
  try {
    const port = await freePort();
    const base = gatewayConfig({ variant, port, upstreamPorts: mockPorts, redisPort: redis?.port });
    const config = options.gatewayOverrides ? options.gatewayOverrides(base) : base;
    const cfgFile = join(paths.work, `${name}.yaml`);
    writeFileSync(cfgFile, stringify(config));
    const entry = options.gatewayEntry === "main" ? join(paths.dist, "../gateway/src/main.js") : join(paths.dist, "gateway-main.js");
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run bench builds it)`);
    const workers = name === "gateway-cluster" ? options.clusterWorkers : 1;
    const args = [...(options.nodeFlags ?? NODE_HEAP_FLAGS), entry, "--config", cfgFile, ...(workers > 1 ? ["--workers", String(workers)] : [])];
    const proc = startProcess(name, process.execPath, args, logFile, options.env);
    const url = `http://127.0.0.1:${port}`;
    await ready(url, proc);
    const store = variant === "minimal" ? null : variant === "full-redis" ? "redis" : "memory";
    const what =
      variant === "minimal"
        ? "no keys, no limits, access log off, log level warn; metrics and health checks on"
        : `client key required, plan with rpm/tpm/concurrency limits set never to trigger on the ${store} store, metrics, health checks and access log (level info, to a file) on`;
    const entryText = options.gatewayEntry === "main" ? "dist/gateway/src/main.js" : "bench/gateway-main.ts (startGateway + createTrafficControl)";
    const description = `${workers > 1 ? `${workers} cluster workers, ` : ""}${what}; entry ${entryText}; 3 targets round-robin`;
    const redisNow = redis;
    return {
      name,
      proc,
      url,
      logFile,
      redis: redisNow?.proc ?? null,
      redisPort: redisNow?.port ?? null,
      store,
      description,
      stop: async () => {
        await stopProcess(proc);
        if (redisNow) await stopProcess(redisNow.proc);
      },
    };
  } catch (err) {
    if (redis) await stopProcess(redis.proc);
    throw err;
  }
}
