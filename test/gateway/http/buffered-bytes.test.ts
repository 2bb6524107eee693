/**
 * The buffer budget and the write timeout, through HTTP: many large answers at once cannot grow
 * memory past `server.bufferedBytesLimit` (the rest get 503 server_overloaded), and a client that
 * never reads is cut after `server.writeTimeoutMs`, releasing what it held.
 */
import { connect, type Socket } from "node:net";
import { BufferBudget, defaultBufferedBytesLimit } from "../../../gateway/src/http/buffer-budget";
import { serverFixture } from "../../helpers/fixture";
import { eventually } from "../../helpers/gateway-harness";
import { HI, chat, json, metricValue, scrape } from "../../helpers/http-client";
import { largeCompletion } from "../../helpers/mock-upstream";

const MiB = 1024 * 1024;

async function bufferedBytes(url: string): Promise<number | null> {
  return metricValue(await scrape(url), "aigw_buffered_bytes");
}

/** A raw HTTP client that sends one request and then never reads (until `readAll`). */
function nonReadingClient(url: string, path: string, body: unknown): { socket: Socket; readAll(): Promise<number> } {
  const { hostname, port } = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const socket = connect({ host: hostname, port: Number(port) });
  socket.pause();
  socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n`);
  socket.write(payload);
  return {
    socket,
    readAll: () =>
      new Promise((resolve) => {
        let received = 0;
        socket.on("data", (chunk: Buffer) => (received += chunk.length));
        socket.on("error", () => {});
        socket.once("close", () => resolve(received));
        socket.resume();
      }),
  };
}

describe("buffer budget (pure)", () => {
  it("refuses a share that does not fit and gives everything back on release", () => {
    const budget = new BufferBudget(100);
    const a = budget.hold();
    const b = budget.hold();
    expect(a.growTo(60)).toBe(true);
    expect(b.growTo(50)).toBe(false);
    expect(b.bytes).toBe(0);
    expect(b.growTo(40)).toBe(true);
    expect(budget.usedBytes).toBe(100);
    a.release();
    a.release();
    expect(budget.usedBytes).toBe(40);
    b.release();
    expect(budget.usedBytes).toBe(0);
  });

  it("defaults to 256 MiB, half the heap limit when smaller, never below one largest body", () => {
    expect(defaultBufferedBytesLimit(64 * MiB, 4096 * MiB)).toBe(256 * MiB);
    expect(defaultBufferedBytesLimit(64 * MiB, 256 * MiB)).toBe(128 * MiB);
    expect(defaultBufferedBytesLimit(64 * MiB, 96 * MiB)).toBe(64 * MiB);
  });
});

describe("buffered bytes through HTTP", () => {
  const fx = serverFixture();

  it("serves what fits in the budget and answers the rest 503 server_overloaded with Retry-After; the gauge returns to 0", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const answer = largeCompletion(4 * MiB);
    const upstream = await fx.upstream("big", { kind: "large", bytes: answer.length, gate });
    const gw = await fx.gateway([{ name: "m", targets: [{ name: "big", baseUrl: upstream.baseUrl }] }], {
      // Room for two 4 MiB answers (and small request bodies), not three.
      server: { bufferedBytesLimit: 10 * MiB, bodyLimitBytes: 4 * MiB },
      upstreamDefaults: { maxResponseBytes: 5 * MiB },
    });

    const settled: Response[] = [];
    const requests = Array.from({ length: 8 }, () => chat(gw.url, { model: "m" }).then((res) => (settled.push(res), res)));
    // Every answer's headers reached the gateway: two hold their length, six were refused at once.
    await eventually(() => upstream.completions.length === 8 && settled.length === 6, 15_000);
    expect(await bufferedBytes(gw.url)).toBeGreaterThanOrEqual(2 * answer.length);
    for (const res of settled) {
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect((await json(res)).error).toMatchObject({ code: "server_overloaded", type: "server_error" });
    }
    // A request body cannot take the room the held answers leave either.
    const big = await chat(gw.url, { model: "m", messages: [{ role: "user", content: "x".repeat(3 * MiB) }] });
    expect(big.status).toBe(503);
    expect((await json(big)).error.code).toBe("server_overloaded");
    expect(upstream.completions).toHaveLength(8);

    release();
    const all = await Promise.all(requests);
    const ok = all.filter((res) => res.status === 200);
    expect(ok).toHaveLength(2);
    for (const res of ok) expect((await res.arrayBuffer()).byteLength).toBe(answer.length);
    await eventually(async () => (await bufferedBytes(gw.url)) === 0);
    // Once the answers are written the room is back.
    const again = await chat(gw.url, { model: "m", messages: HI });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  }, 60_000);

  it("cuts a client that never reads a large answer after the write timeout and releases its bytes", async () => {
    const answer = largeCompletion(32 * MiB);
    const upstream = await fx.upstream("big", { kind: "large", bytes: answer.length });
    const gw = await fx.gateway([{ name: "m", targets: [{ name: "big", baseUrl: upstream.baseUrl }] }], {
      server: { bufferedBytesLimit: 64 * MiB, writeTimeoutMs: 300 },
      upstreamDefaults: { maxResponseBytes: 40 * MiB },
    });
    const client = nonReadingClient(gw.url, "/v1/chat/completions", { model: "m", messages: HI });
    try {
      await eventually(async () => ((await bufferedBytes(gw.url)) ?? 0) >= answer.length, 15_000);
      await eventually(async () => (await bufferedBytes(gw.url)) === 0, 15_000);
      // The connection was cut: what the client can still read is less than the answer.
      expect(await client.readAll()).toBeLessThan(answer.length);
    } finally {
      client.socket.destroy();
    }
  }, 60_000);

  it("cuts a streaming client that stopped reading and aborts its paused upstream", async () => {
    const upstream = await fx.upstream("endless", { kind: "endless", sse: true });
    const gw = await fx.gateway([{ name: "m", targets: [{ name: "endless", baseUrl: upstream.baseUrl, timeoutMs: 120_000 }] }], {
      server: { writeTimeoutMs: 300 },
    });
    const client = nonReadingClient(gw.url, "/v1/chat/completions", { model: "m", stream: true, messages: HI });
    try {
      // The target's own timeout (2 minutes) is not what cuts it: the write timeout is.
      await eventually(() => upstream.abortedByPeer >= 1, 15_000);
      await eventually(async () => metricValue(await scrape(gw.url), "aigw_inflight_requests") === 0, 15_000);
    } finally {
      client.socket.destroy();
    }
  }, 60_000);
});
