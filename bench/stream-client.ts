/**
 * The stream benchmark's client: raw TCP sockets, one streamed chat completion per connection
 * (`Connection: close`), opened at a fixed rate, each read to its end and classified (see
 * lib/stream-outcomes.ts). Nothing between the socket and the count (no HTTP client library)
 * can hide a reset or a connection closed without an answer. Its own process, so its work does
 * not slow the harness that samples the target. Prints one JSON summary line when every stream
 * has ended (or the deadline passed).
 *
 * Usage: node dist/bench/stream-client.js --port P --streams N --rate R --interval MS --events E
 *   [--key K] [--slack-s S] [--prompt-bytes B]
 */
import { connect } from "node:net";
import { AnswerScanner, classify, emptyCounts, type Ending, type OutcomeCounts } from "./lib/stream-outcomes";

export interface ClientSpec {
  port: number;
  streams: number;
  /** New connections per second. */
  rate: number;
  intervalMs: number;
  events: number;
  key: string | null;
  /** A stream still open this long past its expected end is counted as a timeout. */
  slackSec: number;
  /** Bytes of prompt text per request (realistic prompts are kilobytes; the default is a few words). */
  promptBytes?: number;
}

export interface ClientSummary {
  counts: OutcomeCounts;
  /** SSE events received, over every stream. */
  events: number;
  /** Most streams open at once (connected, not yet ended). */
  peakOpen: number;
  /** Error codes of resets, by code. */
  errorCodes: Record<string, number>;
  /** HTTP statuses of refusals other than the graceful 503. */
  refusedStatuses: Record<string, number>;
  /** Completed streams, connect to end: how much a saturated target slowed them (nominal: events × interval). */
  durationP50Ms: number | null;
  durationP99Ms: number | null;
  /** Completed streams, connect to the answer's first byte: the wait before the target took the stream (accept queue, admission). */
  firstByteP50Ms: number | null;
  firstByteP99Ms: number | null;
  seconds: number;
}

/** The `p`-th percentile (0–1) of `values`, or null for none. */
export function percentileOf(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function specOf(argv: string[]): ClientSpec {
  const value = (name: string, fallback?: number) => {
    const at = argv.indexOf(`--${name}`);
    const n = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (n === undefined || !Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number`);
    return n;
  };
  const keyAt = argv.indexOf("--key");
  return { port: value("port"), streams: value("streams"), rate: value("rate", 1_000), intervalMs: value("interval", 1_000), events: value("events", 30), key: keyAt >= 0 ? argv[keyAt + 1] : null, slackSec: value("slack-s", 60), promptBytes: value("prompt-bytes", 0) };
}

function requestBytes(spec: ClientSpec, n: number): Buffer {
  const prompt = `stream ${n} ${"lorem ipsum ".repeat(Math.ceil((spec.promptBytes ?? 0) / 12))}`;
  const body = JSON.stringify({ model: "gpt-4o-mini", stream: true, mock_interval_ms: spec.intervalMs, mock_events: spec.events, messages: [{ role: "user", content: prompt }] });
  const auth = spec.key ? `authorization: Bearer ${spec.key}\r\n` : "";
  return Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${spec.port}\r\ncontent-type: application/json\r\n${auth}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function runClient(spec: ClientSpec): Promise<ClientSummary> {
  const started = Date.now();
  const summary: ClientSummary = { counts: emptyCounts(), events: 0, peakOpen: 0, errorCodes: {}, refusedStatuses: {}, durationP50Ms: null, durationP99Ms: null, firstByteP50Ms: null, firstByteP99Ms: null, seconds: 0 };
  const durations: number[] = [];
  const firstBytes: number[] = [];
  const expectedMs = spec.intervalMs * (spec.events + 3) + spec.slackSec * 1_000;
  let opened = 0;
  let open = 0;
  let ended = 0;
  return new Promise((resolve) => {
    const finishAll = () => {
      summary.seconds = (Date.now() - started) / 1_000;
      summary.durationP50Ms = percentileOf(durations, 0.5);
      summary.durationP99Ms = percentileOf(durations, 0.99);
      summary.firstByteP50Ms = percentileOf(firstBytes, 0.5);
      summary.firstByteP99Ms = percentileOf(firstBytes, 0.99);
      resolve(summary);
    };
    const openOne = (n: number) => {
      const scan = new AnswerScanner();
      const socket = connect({ port: spec.port, host: "127.0.0.1" });
      let connected = false;
      let connectedAt = 0;
      let firstByteAt = 0;
      let settled = false;
      const timer = setTimeout(() => settle({ kind: "timeout" }), expectedMs);
      const settle = (ending: Ending) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (connected) open--;
        const outcome = classify(scan, ending);
        summary.counts[outcome]++;
        if (outcome === "complete") {
          durations.push(Date.now() - connectedAt);
          firstBytes.push(firstByteAt - connectedAt);
        }
        summary.events += scan.events;
        if (ending.kind === "error") summary.errorCodes[ending.code] = (summary.errorCodes[ending.code] ?? 0) + 1;
        if (outcome === "refused") summary.refusedStatuses[String(scan.status)] = (summary.refusedStatuses[String(scan.status)] ?? 0) + 1;
        socket.destroy();
        if (++ended === spec.streams) finishAll();
      };
      socket.once("connect", () => {
        connected = true;
        connectedAt = Date.now();
        summary.peakOpen = Math.max(summary.peakOpen, ++open);
        socket.write(requestBytes(spec, n));
      });
      socket.on("data", (chunk: Buffer) => {
        if (firstByteAt === 0) firstByteAt = Date.now();
        scan.push(chunk);
      });
      socket.once("end", () => settle({ kind: "end" }));
      socket.once("close", () => settle({ kind: "end" }));
      socket.once("error", (err: NodeJS.ErrnoException) => settle(connected ? { kind: "error", code: err.code ?? "error" } : { kind: "connect-failed" }));
    };
    // Open at the given rate, a batch every 10 ms.
    const perTick = Math.max(1, Math.round(spec.rate / 100));
    const opener = setInterval(() => {
      for (let i = 0; i < perTick && opened < spec.streams; i++) openOne(opened++);
      if (opened >= spec.streams) clearInterval(opener);
    }, 10);
    if (spec.streams === 0) finishAll();
  });
}

if (require.main === module) {
  runClient(specOf(process.argv.slice(2)))
    .then((summary) => {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      process.exit(0);
    })
    .catch((err) => {
      process.stderr.write(`stream client failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
