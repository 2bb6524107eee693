/**
 * One node:http server with the gateway's client-facing settings (slow-client timeouts, keep-alive,
 * OpenAI-shaped answers to malformed requests), and listening on it. The public listener and the
 * admin listener are both made here, so they defend against slow and malformed clients alike.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GatewayConfig } from "../config/schema";

export function createGatewayServer(settings: GatewayConfig["server"], handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      // Node checks both timeouts only every 30 s by default, so a slowloris client would hold a
      // socket for up to 30 s past them; check at least once a second.
      connectionsCheckingInterval: Math.min(1_000, settings.headersTimeoutMs),
      // A long stream must not be cut by the request timeout: it only bounds receiving the request.
    },
    handler,
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const body = JSON.stringify({ error: { message: `Bad request: ${status.slice(4)}.`, type: "invalid_request_error", param: null, code: status.slice(0, 3) === "408" ? "request_timeout" : "bad_request" } });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return server;
}

/** Listens on `host:port` and resolves with the bound port (port 0 picks a free one); `backlog`: see server.listenBacklog. */
export function listen(server: Server, port: number, host: string, backlog?: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog }, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** An address clients can dial: a wildcard bind is reached through loopback. */
export function urlOf(host: string, port: number): string {
  const dialable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${dialable.includes(":") ? `[${dialable}]` : dialable}:${port}`;
}
