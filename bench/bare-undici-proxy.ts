/**
 * A reference point, not a product: the least a Node proxy can do per request. node:http in,
 * undici Pool.stream out (round-robin over the upstream ports), the response piped back with
 * its content-type. No parsing, no auth, no limits, no metrics, no logs.
 *
 * Usage: node dist/bench/bare-undici-proxy.js --port P --upstream http://127.0.0.1:A [--upstream …]
 *   [--connections N]   upstream connections per pool (256; the stream benchmark raises it)
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { installSignalProfiler } from "./lib/self-profiler";

function argsOf(argv: string[]): { port: number; upstreams: string[]; connections: number } {
  let port = 0;
  let connections = 256;
  const upstreams: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") port = Number(argv[++i]);
    else if (argv[i] === "--upstream") upstreams.push(argv[++i]);
    else if (argv[i] === "--connections") connections = Number(argv[++i]);
  }
  if (upstreams.length === 0) throw new Error("at least one --upstream is required");
  return { port, upstreams, connections };
}

export interface BareProxy {
  port: number;
  close(): Promise<void>;
}

/** Starts the bare proxy on 127.0.0.1 (`port` 0: a free one); the stream memory tool runs it in-process. */
export async function startBareProxy(port: number, upstreams: readonly string[], connections: number): Promise<BareProxy> {
  const pools = upstreams.map((origin) => new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 }));
  let next = 0;

  const proxy = (req: IncomingMessage, res: ServerResponse): void => {
    const pool = pools[next];
    next = (next + 1) % pools.length;
    const headers: Record<string, string> = {};
    const type = req.headers["content-type"];
    const length = req.headers["content-length"];
    if (type) headers["content-type"] = type;
    if (length) headers["content-length"] = length;
    pool.stream(
      { method: req.method as "POST", path: req.url ?? "/", headers, body: req.method === "GET" ? null : req },
      ({ statusCode, headers: upstream }) => {
        const out: string[] = [];
        const contentType = upstream["content-type"];
        if (typeof contentType === "string") out.push("content-type", contentType);
        const contentLength = upstream["content-length"];
        if (typeof contentLength === "string") out.push("content-length", contentLength);
        res.writeHead(statusCode, out);
        return res;
      },
      (err) => {
        if (!err) return;
        if (!res.headersSent) {
          res.writeHead(502, ["content-type", "application/json"]);
          res.end('{"error":{"message":"bad gateway","type":"server_error"}}');
        } else res.destroy();
      },
    );
  };

  const server = createServer({ keepAliveTimeout: 120_000, requestTimeout: 0 }, proxy);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", 4096, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.close();
      server.closeAllConnections();
      await Promise.all(pools.map((p) => p.destroy()));
    },
  };
}

async function main(): Promise<void> {
  installSignalProfiler();
  const { port, upstreams, connections } = argsOf(process.argv.slice(2));
  const proxy = await startBareProxy(port, upstreams, connections);
  process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
  const stop = () => void proxy.close().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`bare proxy failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
