/**
 * Peak RSS of a real gateway process under large buffered answers (issue 16, "Memory"):
 *  1. 16 parallel requests for 60 MB non-streaming answers, read by their clients;
 *  2. 16 clients that ask for a 60 MB answer and never read it.
 * Prints peak RSS (VmHWM), the statuses, and RSS / aigw_buffered_bytes each second while the
 * non-reading clients hang on (the write timeout cuts them).
 *
 *   npm run bench:memory                           # this build, default budget, writeTimeoutMs 2000
 *   npm run bench:memory -- --main /tmp/old/dist/gateway/src/main.js   # an older build (no new config fields)
 * 127.0.0.1 only; every process started here is stopped by PID.
 */
import { request } from "node:http";
import { resolve } from "node:path";
import { connect, type Socket } from "node:net";
import type { GatewayConfigInput } from "../gateway/src/config/schema";
import { spawnGateway, type SpawnedGateway } from "../test/helpers/gateway-harness";
import { metricValue } from "../test/helpers/http-client";
import { MockUpstream } from "../test/helpers/mock-upstream";
import { peakRssBytes, rssBytes } from "./lib/proc-stats";

const ANSWER_BYTES = 60_000_000;
const CLIENTS = 16;
const MB = 1e6;
/** How long the non-reading clients are watched. */
const HOLD_SECONDS = 30;
const BODY = JSON.stringify({ model: "big", messages: [{ role: "user", content: "large" }] });

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** One request whose answer is counted and dropped (the client process must not hold 16 × 60 MB). */
function readingClient(url: string): Promise<{ status: number; bytes: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) } }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on("error", () => resolve({ status: 0, bytes: 0 }));
    req.end(BODY);
  });
}

/** Sends the request and never reads: the answer stays in the gateway's buffers (or the kernel's). */
function nonReadingClient(url: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.pause();
  socket.on("error", () => {});
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);
  return socket;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

async function run(upstream: MockUpstream, main: string | undefined, scenario: "reading" | "non-reading"): Promise<void> {
  const config: GatewayConfigInput = {
    server: { host: "127.0.0.1", port: 0 },
    logging: { level: "info", accessLog: false },
    healthCheck: { enabled: false },
    upstreamDefaults: { maxResponseBytes: 64 * 1024 * 1024 },
    models: [{ name: "big", targets: [{ name: "big", baseUrl: upstream.baseUrl }] }],
  };
  // An older build rejects fields it does not know.
  if (main === undefined) config.server = { ...config.server, writeTimeoutMs: 2_000 };
  let gateway: SpawnedGateway | null = null;
  try {
    gateway = await spawnGateway(config, {}, main ?? resolve(__dirname, "../gateway/src/main.js"));
    const pid = gateway.child.pid!;
    const started = Date.now();
    if (scenario === "reading") {
      const results = await Promise.all(Array.from({ length: CLIENTS }, () => readingClient(gateway!.url)));
      const byStatus = new Map<number, number>();
      for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
      console.log(`reading clients: ${CLIENTS} × ${mb(ANSWER_BYTES)} in ${Date.now() - started} ms; statuses ${JSON.stringify(Object.fromEntries(byStatus))}; peak RSS ${mb(peakRssBytes([pid]))}`);
    } else {
      const sockets = Array.from({ length: CLIENTS }, () => nonReadingClient(gateway!.url));
      // Sampled each second: RSS and the gauge settle once every answer is buffered (before) or cut (after).
      const series: string[] = [];
      for (let second = 1; second <= HOLD_SECONDS; second++) {
        await sleep(1_000);
        const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
        series.push(`${second}s ${mb(rssBytes([pid]))}/${mb(metricValue(metrics, "aigw_buffered_bytes") ?? NaN)}`);
      }
      console.log(`non-reading clients: ${CLIENTS} × ${mb(ANSWER_BYTES)}; peak RSS ${mb(peakRssBytes([pid]))}; RSS/aigw_buffered_bytes each second: ${series.join(", ")}`);
      for (const socket of sockets) socket.destroy();
    }
  } finally {
    if (gateway) {
      gateway.kill("SIGKILL");
      await gateway.exited;
    }
  }
}

async function main(): Promise<void> {
  const gatewayMain = argValue("--main");
  const upstream = await MockUpstream.start("big", { kind: "large", bytes: ANSWER_BYTES });
  try {
    console.log(`gateway build: ${gatewayMain ?? "this tree (default buffer budget, writeTimeoutMs 2000)"}`);
    await run(upstream, gatewayMain, "reading");
    await run(upstream, gatewayMain, "non-reading");
  } finally {
    await upstream.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
