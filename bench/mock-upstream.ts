/**
 * The benchmark's upstream: a standalone process, as fast as node:http allows, so the proxies
 * under test are the bottleneck. Every answer is serialised once at start.
 *
 *   POST /v1/chat/completions               JSON completion with a `usage` block
 *   POST … with `"stream":true` in the body SSE: role chunk, 20 content chunks, finish chunk,
 *                                           usage chunk, [DONE] (one write per event)
 *   … and `"mock_interval_ms":N` too        the same events N ms apart (held-open streams)
 *   … and `"mock_events":E` too             E content chunks instead of 20 (long streams; each
 *                                           stream holds only its response and one timer)
 *   GET  /v1/models                         model list (health checks)
 *
 * Usage: node dist/bench/mock-upstream.js [--port P]... (0 or none: one free port; several
 * --port flags: one listener each, all in this process). Prints `{"ports":[…]}` when listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const MOCK_MODEL = "gpt-4o-mini";
export const STREAM_CONTENT_CHUNKS = 20;
const PROMPT_TOKENS = 19;

const STREAM_TRUE = Buffer.from('"stream":true');
const STREAM_TRUE_SPACED = Buffer.from('"stream": true');
const INTERVAL_FIELD = '"mock_interval_ms":';
const EVENTS_FIELD = '"mock_events":';

function completionBody(): Buffer {
  const content = Array.from({ length: STREAM_CONTENT_CHUNKS }, (_, i) => `word${i}`).join(" ");
  return Buffer.from(
    JSON.stringify({
      id: "chatcmpl-bench0000000000000000",
      object: "chat.completion",
      created: 1_700_000_000,
      model: MOCK_MODEL,
      system_fingerprint: "fp_bench",
      choices: [{ index: 0, message: { role: "assistant", content }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: STREAM_CONTENT_CHUNKS, total_tokens: PROMPT_TOKENS + STREAM_CONTENT_CHUNKS },
    }),
  );
}

/** The SSE events of one streamed answer, each a `data: …\n\n` buffer. */
export function streamEvents(): Buffer[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: Record<string, number>) =>
    Buffer.from(
      `data: ${JSON.stringify({
        id: "chatcmpl-bench0000000000000000",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: MOCK_MODEL,
        system_fingerprint: "fp_bench",
        choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })}\n\n`,
    );
  const events = [chunk({ role: "assistant", content: "" }, null)];
  for (let i = 0; i < STREAM_CONTENT_CHUNKS; i++) events.push(chunk({ content: `word${i} ` }, null));
  events.push(chunk({}, "stop"));
  events.push(chunk({}, null, { prompt_tokens: PROMPT_TOKENS, completion_tokens: STREAM_CONTENT_CHUNKS, total_tokens: PROMPT_TOKENS + STREAM_CONTENT_CHUNKS }));
  events.push(Buffer.from("data: [DONE]\n\n"));
  return events;
}

const COMPLETION = completionBody();
const COMPLETION_HEADERS = ["content-type", "application/json", "content-length", String(COMPLETION.length)];
const EVENTS = streamEvents();
const STREAM_HEADERS = ["content-type", "text/event-stream; charset=utf-8", "cache-control", "no-cache"];
const MODELS = Buffer.from(JSON.stringify({ object: "list", data: [{ id: MOCK_MODEL, object: "model", created: 1_700_000_000, owned_by: "bench" }] }));
const MODELS_HEADERS = ["content-type", "application/json", "content-length", String(MODELS.length)];
const NOT_FOUND = Buffer.from('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');

/** A small non-negative integer field read from the raw body, without parsing it. */
function fieldOf(body: Buffer, field: string, max: number): number {
  const text = body.toString("latin1");
  const at = text.indexOf(field);
  if (at === -1) return 0;
  const value = parseInt(text.slice(at + field.length, at + field.length + 8), 10);
  return Number.isFinite(value) && value > 0 ? Math.min(value, max) : 0;
}

/** The usage chunk for a stream of `contentChunks` chunks (the default one is pre-serialised). */
function usageEvent(contentChunks: number): Buffer {
  if (contentChunks === STREAM_CONTENT_CHUNKS) return EVENTS[EVENTS.length - 2];
  const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: contentChunks, total_tokens: PROMPT_TOKENS + contentChunks };
  return Buffer.from(`data: ${JSON.stringify({ id: "chatcmpl-bench0000000000000000", object: "chat.completion.chunk", created: 1_700_000_000, model: MOCK_MODEL, system_fingerprint: "fp_bench", choices: [], usage })}\n\n`);
}

/** The `i`-th event of a stream with `contentChunks` content chunks: role, content…, finish, usage, [DONE]. */
function eventAt(i: number, contentChunks: number): Buffer {
  if (i === 0) return EVENTS[0];
  if (i <= contentChunks) return EVENTS[1 + ((i - 1) % STREAM_CONTENT_CHUNKS)];
  if (i === contentChunks + 1) return EVENTS[EVENTS.length - 3];
  if (i === contentChunks + 2) return usageEvent(contentChunks);
  return EVENTS[EVENTS.length - 1];
}

function sendStream(res: ServerResponse, intervalMs: number, contentChunks: number): void {
  res.writeHead(200, STREAM_HEADERS);
  if (intervalMs === 0 && contentChunks === STREAM_CONTENT_CHUNKS) {
    for (let i = 0; i < EVENTS.length - 1; i++) res.write(EVENTS[i]);
    res.end(EVENTS[EVENTS.length - 1]);
    return;
  }
  const last = contentChunks + 3;
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    if (i === last) {
      clearInterval(timer);
      res.end(eventAt(i, contentChunks));
      return;
    }
    res.write(eventAt(i++, contentChunks));
  }, Math.max(1, intervalMs));
  res.once("close", () => clearInterval(timer));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === "GET") {
    req.resume();
    if (req.url === "/v1/models" || req.url === "/models") {
      res.writeHead(200, MODELS_HEADERS);
      res.end(MODELS);
    } else {
      res.writeHead(404, ["content-type", "application/json"]);
      res.end(NOT_FOUND);
    }
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (body.includes(STREAM_TRUE) || body.includes(STREAM_TRUE_SPACED)) return sendStream(res, fieldOf(body, INTERVAL_FIELD, 10_000), fieldOf(body, EVENTS_FIELD, 100_000) || STREAM_CONTENT_CHUNKS);
    res.writeHead(200, COMPLETION_HEADERS);
    res.end(COMPLETION);
  });
}

function portsFrom(argv: string[], env: NodeJS.ProcessEnv): number[] {
  const ports: number[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === "--port") ports.push(Number(argv[++i]));
  if (ports.length === 0 && env.MOCK_PORTS) ports.push(...env.MOCK_PORTS.split(",").map(Number));
  if (ports.length === 0) ports.push(0);
  for (const port of ports) if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port: ${port}`);
  return ports;
}

async function main(): Promise<void> {
  const ports = portsFrom(process.argv.slice(2), process.env);
  const bound = await Promise.all(
    ports.map(
      (port) =>
        new Promise<number>((resolve, reject) => {
          const server = createServer({ keepAliveTimeout: 120_000, requestTimeout: 0 }, handle);
          server.once("error", reject);
          server.listen(port, "127.0.0.1", 4096, () => resolve((server.address() as AddressInfo).port));
        }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ ports: bound })}\n`);
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`mock upstream failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
