/**
 * An OpenAI-compatible upstream (node:http on 127.0.0.1:0) that drops keep-alive connections the
 * way a real one does when its idle timeout races the gateway: it answers some requests, and
 * on others closes or resets the connection without a byte of response, as the test decides.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { mockChatCompletion } from "../../gateway/src/upstream/mock-responses";

/** What to do with a request: answer it, close the connection (FIN), reset it (RST), or send headers and then close it. */
export type StaleAction = "answer" | "close" | "reset" | "headers-then-close";

export interface StaleRequest {
  /** 1 for the first request ever, 2 for the next… */
  index: number;
  /** 1 for the first request on its connection (a new one), 2 for the next on the same… */
  onConnection: number;
  /** The request's `connection` header (`close` when the gateway wants a connection of its own). */
  connectionHeader: string | undefined;
  action: StaleAction;
}

export class StaleUpstream {
  /** Every request seen, with what was done to it. */
  readonly requests: StaleRequest[] = [];
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly perSocket = new WeakMap<Socket, number>();

  private constructor(
    private readonly server: Server,
    private readonly decide: (index: number, onConnection: number) => StaleAction,
  ) {}

  static async start(decide: (index: number, onConnection: number) => StaleAction): Promise<StaleUpstream> {
    let upstream: StaleUpstream | null = null;
    const server = createServer((req, res) => upstream!.handle(req, res));
    upstream = new StaleUpstream(server, decide);
    server.on("connection", (socket: Socket) => {
      upstream!.connections++;
      upstream!.sockets.add(socket);
      socket.on("close", () => upstream!.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return upstream;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private handle(req: IncomingMessage, res: import("node:http").ServerResponse): void {
    const socket = req.socket;
    const onConnection = (this.perSocket.get(socket) ?? 0) + 1;
    this.perSocket.set(socket, onConnection);
    const action = this.decide(this.requests.length + 1, onConnection);
    this.requests.push({ index: this.requests.length + 1, onConnection, connectionHeader: req.headers.connection, action });
    // Dropped on arrival, before the body is read: what a server that already closed its side does.
    if (action === "close") return void socket.destroy();
    if (action === "reset") return void socket.resetAndDestroy();
    if (action === "headers-then-close") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.flushHeaders();
      return void setTimeout(() => socket.destroy(), 20);
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(mockChatCompletion(body, 4, "stale")));
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
