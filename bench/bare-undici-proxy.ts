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

async function main(): Promise<void> {
  installSignalProfiler();
  const { port, upstreams, connections } = argsOf(process.argv.slice(2));
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
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  const stop = () => {
    server.close();
    void Promise.all(pools.map((p) => p.destroy())).finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  process.stderr.write(`bare proxy failed: ${(err as Error).message}\n`);
  process.exit(1);
});
