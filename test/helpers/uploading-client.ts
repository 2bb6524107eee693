/**
 * A raw-socket client that declares a 4 MB body and keeps sending it as fast as the socket takes
 * it: what a client refused before its body was read still has in flight. Resolves with every
 * byte read before the server closed, so a test sees whether the answer got through or a reset
 * ate it.
 */
import { connect } from "node:net";

export const DECLARED_BODY_BYTES = 4_000_000;

export function uploadingClient(port: number, headers = "", path = "/v1/chat/completions"): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    let pump: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${DECLARED_BODY_BYTES}\r\n${headers}\r\n{"model":"gpt","x":"`);
      const piece = Buffer.alloc(16 * 1024, 0x61);
      let sent = 0;
      pump = setInterval(() => {
        for (let i = 0; i < 4 && sent < DECLARED_BODY_BYTES - 100_000; i++, sent += piece.length) socket.write(piece);
      }, 1);
    });
    socket.on("data", (data: Buffer) => (received += data.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(pump);
      resolve(received);
    });
  });
}
