/**
 * Early refusals with a body still coming (a wrong key, a declared body over the limit): over a
 * raw socket, a client that keeps sending reads its 401 or 413, every time. Closing the socket
 * at once with unread bytes made the kernel reset the connection, and such clients mostly got
 * EPIPE or ECONNRESET instead of the answer.
 */
import { connect } from "node:net";
import { DECLARED_BODY_BYTES as DECLARED, uploadingClient } from "../../helpers/uploading-client";
import { serverFixture } from "../../helpers/fixture";

describe("lingering close after an early refusal", () => {
  const fx = serverFixture();
  const TRIALS = 10;

  it("a client still sending its body reads the 401 for a wrong key", async () => {
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "mock", baseUrl: "mock://gpt" }] }], {
      keys: [{ name: "app", key: "sk-app-key-123456" }],
      auth: { required: true },
    });
    const port = Number(new URL(gw.url).port);
    for (let i = 0; i < TRIALS; i++) {
      const answer = await uploadingClient(port, "authorization: Bearer sk-wrong-key-000000\r\n");
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toContain('"code":"invalid_api_key"');
    }
  });

  it("a client still sending a body declared over the limit reads the 413", async () => {
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "mock", baseUrl: "mock://gpt" }] }], { server: { bodyLimitBytes: 1_000_000 } });
    const port = Number(new URL(gw.url).port);
    for (let i = 0; i < TRIALS; i++) {
      const answer = await uploadingClient(port, "");
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain('"code":"request_too_large"');
    }
  });

  it("closes the connection of a client that neither reads nor stops sending, after the linger time", async () => {
    const gw = await fx.gateway([{ name: "gpt", targets: [{ name: "mock", baseUrl: "mock://gpt" }] }], { server: { bodyLimitBytes: 1_000_000 } });
    const port = Number(new URL(gw.url).port);
    const started = performance.now();
    // A slow sender that never finishes (1 KB every 50 ms of a 4 MB body) and never reads, so it never sees our FIN.
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      let pump: NodeJS.Timeout | undefined;
      socket.on("connect", () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${DECLARED}\r\n\r\n`);
        pump = setInterval(() => socket.write(Buffer.alloc(1024, 0x61)), 50);
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(pump);
        resolve(performance.now() - started);
      });
    });
    // LINGER_MS is 2 s: closed after it, and well before the 30 s request timeout.
    expect(closedAfter).toBeGreaterThanOrEqual(1_900);
    expect(closedAfter).toBeLessThan(20_000);
  });
});
