/**
 * Memory of long streams from the built-in mock upstream (issue 14: "with the built-in mock as
 * the upstream, 3,000 long streams took the process to about 2 GB"). A gateway process serves a
 * `mock://` target of `--tokens` tokens `--inter-token-ms` apart; this process opens `--streams`
 * streams to it over raw sockets (read and dropped), and once all have started samples the
 * gateway's RSS and V8 heap (its /metrics) for `--hold-seconds`. Prints the figures per stream.
 *
 *   npm run build:gateway && npm run build:bench && node dist/bench/mock-stream-memory.js
 *   node dist/bench/mock-stream-memory.js --streams 2000 --tokens 2000 --inter-token-ms 50 --main /tmp/old/dist/gateway/src/main.js
 * 127.0.0.1 only; the gateway started here is stopped by PID.
 */
import { connect, type Socket } from "node:net";
import { resolve } from "node:path";
import type { GatewayConfigInput } from "../gateway/src/config/schema";
import { spawnGateway, type SpawnedGateway } from "../test/helpers/gateway-harness";
import { metricValue } from "../test/helpers/http-client";
import { peakRssBytes, rssBytes } from "./lib/proc-stats";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const STREAMS = arg("--streams", 2_000);
const TOKENS = arg("--tokens", 2_000);
const INTER_TOKEN_MS = arg("--inter-token-ms", 50);
const HOLD_SECONDS = arg("--hold-seconds", 20);
const MB = 1024 * 1024;
const BODY = JSON.stringify({ model: "long", stream: true, messages: [{ role: "user", content: "a long answer please" }] });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Client {
  socket: Socket;
  started: boolean;
  bytes: number;
}

/** One streaming request on its own connection; the answer is counted and dropped. */
function openStream(url: string): Client {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const client: Client = { socket, started: false, bytes: 0 };
  socket.on("data", (chunk: Buffer) => {
    client.bytes += chunk.length;
    client.started = true;
  });
  socket.on("error", () => {});
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);
  return client;
}

/** The gateway's V8 heap in use and RSS, from its own /metrics. */
async function sample(url: string): Promise<{ heapUsed: number; rss: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return { heapUsed: metricValue(text, "nodejs_heap_size_used_bytes") ?? NaN, rss: metricValue(text, "process_resident_memory_bytes") ?? NaN };
}

async function main(): Promise<void> {
  const gatewayMain = process.argv.includes("--main") ? process.argv[process.argv.indexOf("--main") + 1] : resolve(__dirname, "../gateway/src/main.js");
  const config: GatewayConfigInput = {
    server: { host: "127.0.0.1", port: 0 },
    logging: { level: "info", accessLog: false },
    healthCheck: { enabled: false },
    models: [{ name: "long", targets: [{ name: "mock", baseUrl: "mock://long", mock: { tokens: TOKENS, interTokenMs: INTER_TOKEN_MS } }] }],
  };
  let gateway: SpawnedGateway | null = null;
  const clients: Client[] = [];
  try {
    gateway = await spawnGateway(config, {}, gatewayMain);
    const pid = gateway.child.pid!;
    await sleep(1_000);
    const idle = await sample(gateway.url);
    // Opened in batches, so the listener's backlog is not what is measured.
    for (let i = 0; i < STREAMS; i += 100) {
      for (let j = i; j < Math.min(STREAMS, i + 100); j++) clients.push(openStream(gateway.url));
      await sleep(50);
    }
    const deadline = Date.now() + 60_000;
    while (clients.some((c) => !c.started) && Date.now() < deadline) await sleep(100);
    const started = clients.filter((c) => c.started).length;
    const samples: { heapUsed: number; rss: number }[] = [];
    for (let s = 0; s < HOLD_SECONDS; s++) {
      await sleep(1_000);
      samples.push(await sample(gateway.url));
    }
    const open = clients.filter((c) => !c.socket.destroyed).length;
    // The lowest heap sample is the closest to what a collection leaves: what the streams keep.
    const heapLow = Math.min(...samples.map((s) => s.heapUsed));
    const heapHigh = Math.max(...samples.map((s) => s.heapUsed));
    const rssLast = samples.at(-1)!.rss;
    const bytes = clients.reduce((sum, c) => sum + c.bytes, 0);
    console.log(
      JSON.stringify({
        build: gatewayMain,
        streams: STREAMS,
        started,
        stillOpen: open,
        tokens: TOKENS,
        interTokenMs: INTER_TOKEN_MS,
        holdSeconds: HOLD_SECONDS,
        streamedMB: +(bytes / MB).toFixed(1),
        idle: { heapUsedMB: +(idle.heapUsed / MB).toFixed(1), rssMB: +(idle.rss / MB).toFixed(1) },
        open: { heapUsedLowMB: +(heapLow / MB).toFixed(1), heapUsedHighMB: +(heapHigh / MB).toFixed(1), rssMB: +(rssLast / MB).toFixed(1), peakRssMB: +(peakRssBytes([pid]) / MB).toFixed(1), rssNowMB: +(rssBytes([pid]) / MB).toFixed(1) },
        perStreamKB: { heapUsed: +((heapLow - idle.heapUsed) / started / 1024).toFixed(1), rss: +((rssLast - idle.rss) / started / 1024).toFixed(1) },
      }),
    );
  } finally {
    for (const c of clients) c.socket.destroy();
    if (gateway) {
      gateway.kill("SIGKILL");
      await gateway.exited;
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
