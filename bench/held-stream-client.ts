/**
 * The stream memory tool's client (bench/stream-heap.ts): opens `--streams` streamed chat
 * completions on raw sockets, one per connection, and holds them open, reading and dropping what
 * arrives. Prints `{"started":N,"failed":F}` once every stream got its first bytes (or failed),
 * then keeps the streams until it is killed. Its own process, so its sockets are not in the
 * heap being measured.
 *
 * Usage: node dist/bench/held-stream-client.js --port P --streams N [--key K] [--interval MS]
 *   [--events E] [--prompt-bytes B]
 */
import { connect, type Socket } from "node:net";

function numberArg(argv: string[], name: string, fallback?: number): number {
  const at = argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (n === undefined || !Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number`);
  return n;
}

/** The same request as the stream benchmark's client (bench/stream-client.ts), kept open. */
export function heldStreamRequest(port: number, n: number, options: { key: string | null; intervalMs: number; events: number; promptBytes: number }): Buffer {
  const prompt = `stream ${n} ${"lorem ipsum ".repeat(Math.ceil(options.promptBytes / 12))}`;
  const body = JSON.stringify({ model: "gpt-4o-mini", stream: true, mock_interval_ms: options.intervalMs, mock_events: options.events, messages: [{ role: "user", content: prompt }] });
  const auth = options.key ? `authorization: Bearer ${options.key}\r\n` : "";
  return Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n${auth}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const port = numberArg(argv, "port");
  const streams = numberArg(argv, "streams");
  const keyAt = argv.indexOf("--key");
  const options = { key: keyAt >= 0 ? argv[keyAt + 1] : null, intervalMs: numberArg(argv, "interval", 1_000), events: numberArg(argv, "events", 3_600), promptBytes: numberArg(argv, "prompt-bytes", 0) };
  const sockets: Socket[] = [];
  let started = 0;
  let failed = 0;
  let reported = false;
  const report = () => {
    if (reported || started + failed < streams) return;
    reported = true;
    process.stdout.write(`${JSON.stringify({ started, failed })}\n`);
  };
  for (let i = 0; i < streams; i++) {
    const socket = connect({ port, host: "127.0.0.1" });
    let first = true;
    let ended = false;
    const fail = () => {
      if (ended) return;
      ended = true;
      if (first) failed++;
      else if (reported) process.stderr.write("a held stream ended while being measured\n");
      first = false;
      report();
    };
    socket.once("connect", () => socket.write(heldStreamRequest(port, i, options)));
    socket.on("data", () => {
      if (!first) return;
      first = false;
      started++;
      report();
    });
    socket.once("error", fail);
    socket.once("close", fail);
    sockets.push(socket);
    // Batches of 100, so the target's listen backlog is not what is measured.
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
  }
  report();
  process.on("SIGTERM", () => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`held stream client failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
