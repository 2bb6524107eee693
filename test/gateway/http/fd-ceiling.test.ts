/**
 * The open-file ceiling, as an attack: a client that opens connections and leaves them idle until
 * the process nears its open-file limit. Past it accept() would fail and libuv would close new
 * connections unanswered; the gateway instead answers a new request 503 server_overloaded with
 * Retry-After and closes that connection, and serves again once connections go. The in-flight
 * ceiling follows the limit too. (The limit is given to the gateway here; in production it is
 * read from /proc/self/limits.)
 */
import { connect, type Socket } from "node:net";
import { MockUpstream } from "../../helpers/mock-upstream";
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";
import { FD_RESERVE } from "../../../gateway/src/http/fd-limit";

/** 512 descriptors: 128 requests in flight, 128 client connections. */
const FD_LIMIT = FD_RESERVE + 256;

function openIdle(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** One request on a new connection; resolves with the raw answer once the server closes or 2 s pass. */
function rawChat(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
    socket.on("connect", () => socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`));
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, 2_000);
    socket.on("close", done);
    socket.on("error", done);
  });
}

describe("open-file ceiling", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  const idle: Socket[] = [];

  beforeAll(async () => {
    upstream = await MockUpstream.start("up");
    gw = await startTestGateway({ models: [{ name: "m", targets: [{ name: "t", baseUrl: upstream.baseUrl }] }] }, { openFileLimit: FD_LIMIT });
  });

  afterAll(async () => {
    for (const socket of idle) socket.destroy();
    await gw?.close();
    await upstream?.stop();
  });

  it("lowers the in-flight ceiling to what the limit allows, and says so", () => {
    expect(gw.gateway.runtime.overload.maxInFlight).toBe(128);
    expect(gw.gateway.runtime.overload.maxConnections).toBe(128);
    expect(gw.logs().some((l) => l.level === "warn" && String(l.msg).includes("open-file limit"))).toBe(true);
  });

  it("answers 503 with Retry-After past the connection ceiling, closes that connection, and serves again when connections go", async () => {
    const port = Number(new URL(gw.url).port);
    for (let i = 0; i < 140; i++) idle.push(await openIdle(port));
    await eventually(() => gw.gateway.runtime.overload.openConnections >= 140);
    // Probes are never shed, and the gauge counts the idle connections too.
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(Number(/^aigw_client_connections (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(140);
    expect(metrics).not.toContain("nodejs_active_handles");
    const refused = await rawChat(port);
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(refused).toMatch(/\r\nconnection: close\r\n/i);
    expect(refused).toContain('"code":"server_overloaded"');
    expect(upstream.requests).toHaveLength(0);

    for (const socket of idle.splice(0)) socket.destroy();
    await eventually(() => gw.gateway.runtime.overload.openConnections <= 2); // fetch may keep its connection
    const served = await rawChat(port);
    expect(served).toMatch(/^HTTP\/1\.1 200 /);
    expect(upstream.requests).toHaveLength(1);
    const shed = gw.logs().filter((l) => l.refusal === "open_connections");
    expect(shed).toHaveLength(1);
  });
});
