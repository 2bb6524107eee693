/** Which transport errors mean a stale keep-alive connection (pure), and the connector that tells a reused socket from a new one. */
import { createServer, type Server } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { connectorWithSocketInfo, isStaleConnectionError } from "../../../gateway/src/upstream/stale-connection";

function error(code: string, message = code, socket?: { bytesRead: number }): Error {
  return Object.assign(new Error(message), { code }, socket ? { socket } : {});
}

describe("isStaleConnectionError", () => {
  it.each([
    ["a reset on a connection that had answered", error("ECONNRESET", "read ECONNRESET", { bytesRead: 72 })],
    ["a broken pipe on a connection that had answered", error("EPIPE", "write EPIPE", { bytesRead: 10 })],
    ["undici's close of a connection that had answered", error("UND_ERR_SOCKET", "other side closed", { bytesRead: 72 })],
    ["undici's plain close", error("UND_ERR_SOCKET", "closed", { bytesRead: 1 })],
    ["a reset whose connection is unknown", error("ECONNRESET")],
  ])("is stale: %s", (_what, err) => {
    expect(isStaleConnectionError(err)).toBe(true);
  });

  it.each([
    ["a reset on a connection that never delivered a byte", error("ECONNRESET", "read ECONNRESET", { bytesRead: 0 })],
    ["a close of a new connection", error("UND_ERR_SOCKET", "other side closed", { bytesRead: 0 })],
    ["a malformed answer", error("UND_ERR_SOCKET", "bad response", { bytesRead: 40 })],
    ["a headers timeout", error("UND_ERR_HEADERS_TIMEOUT")],
    ["a body timeout", error("UND_ERR_BODY_TIMEOUT")],
    ["the gateway's attempt timeout", error("GW_ATTEMPT_TIMEOUT")],
    ["a refused connection", error("ECONNREFUSED")],
    ["the client leaving", error("GW_CLIENT_CLOSED")],
  ])("is not stale: %s", (_what, err) => {
    expect(isStaleConnectionError(err)).toBe(false);
  });
});

describe("connectorWithSocketInfo", () => {
  let server: Server;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("stamps a raw socket error with the bytes the connection had read", async () => {
    // Answers the first write with 5 bytes, resets on the second.
    server = createServer((socket) => {
      let writes = 0;
      socket.on("data", () => (++writes === 1 ? socket.write("hello") : socket.resetAndDestroy()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const connect = connectorWithSocketInfo({ timeout: 2_000 });
    const socket = await new Promise<Socket>((resolve, reject) =>
      connect({ hostname: "127.0.0.1", protocol: "http:", port: String((server.address() as AddressInfo).port) }, (err, s) => (err ? reject(err) : resolve(s as Socket))),
    );
    socket.write("one");
    await new Promise((resolve) => socket.once("data", resolve));
    const failed = new Promise<Error & { socket?: { bytesRead: number } }>((resolve) => socket.once("error", resolve));
    socket.write("two");
    const err = await failed;
    expect([err.socket?.bytesRead, isStaleConnectionError(err)]).toEqual([5, true]);
  });
});
