/**
 * A tiny round-robin HTTP proxy for rolling-restart tests, standing in for a Kubernetes
 * Service: one new backend connection per request over the current endpoints, which the test
 * removes and adds as the endpoints controller does for a terminating or ready pod; a backend
 * whose connection is refused is skipped for the next one. Nothing else is retried: a request
 * that reached a replica and failed there is a client-visible failure.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export class RoundRobinProxy {
  /** Requests answered, by backend port. */
  readonly served = new Map<number, number>();
  /** Connection attempts refused (and skipped), by backend port. */
  readonly refused = new Map<number, number>();
  /** Requests under way, by backend port. */
  readonly inflight = new Map<number, number>();
  /** Requests the proxy itself could not place anywhere, or that broke at a backend. */
  failures: string[] = [];
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private backends: number[],
  ) {}

  /** Takes a backend out of rotation (a pod marked terminating); requests under way go on. */
  remove(port: number): void {
    this.backends = this.backends.filter((p) => p !== port);
  }

  /** Puts a backend (back) in rotation (a pod that turned ready). */
  add(port: number): void {
    if (!this.backends.includes(port)) this.backends = [...this.backends, port];
  }

  static async start(backends: number[]): Promise<RoundRobinProxy> {
    let proxy: RoundRobinProxy | null = null;
    const server = createServer((req, res) => proxy!.handle(req, res));
    proxy = new RoundRobinProxy(server, backends);
    server.on("connection", (socket) => {
      proxy!.sockets.add(socket);
      socket.on("close", () => proxy!.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => this.forward(req, res, Buffer.concat(chunks), this.next++, 0, [...this.backends]));
  }

  /** Tries the backend at `first`, then the ones after it, until one accepts the connection. */
  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, first: number, tried: number, backends: number[]): void {
    if (tried >= backends.length) {
      this.fail(res, "every backend refused the connection");
      return;
    }
    const port = backends[(first + tried) % backends.length];
    this.inflight.set(port, (this.inflight.get(port) ?? 0) + 1);
    let counted = true;
    const done = () => {
      if (counted) this.inflight.set(port, this.inflight.get(port)! - 1);
      counted = false;
    };
    res.once("close", done);
    const upstream = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: { ...endToEnd(req.headers), "content-length": String(body.length) }, agent: false });
    upstream.on("response", (answer) => {
      this.served.set(port, (this.served.get(port) ?? 0) + 1);
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
      answer.on("error", () => res.destroy());
      answer.on("aborted", () => {
        this.failures.push(`backend ${port} broke off a response`);
        res.destroy();
      });
    });
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED" && !res.headersSent) {
        this.refused.set(port, (this.refused.get(port) ?? 0) + 1);
        done();
        res.off("close", done);
        this.forward(req, res, body, first, tried + 1, backends);
        return;
      }
      this.fail(res, `backend ${port}: ${err.code ?? err.message}`);
    });
    upstream.end(body);
  }

  private fail(res: ServerResponse, why: string): void {
    this.failures.push(why);
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${why}`);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
