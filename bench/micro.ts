/**
 * `npm run bench:micro`: per-call cost of the gateway pipeline's per-request steps, in-process,
 * for small and realistic request sizes — the steps the CPU profile points at, measured apart
 * so their growth with prompt and answer size shows. Not a gate: figures move with the machine.
 */
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { hashKey, digestsEqual } from "../gateway/src/auth/key-hash";
import { monthOf } from "../gateway/src/budget/spend";
import { createLoggers } from "../gateway/src/log";
import { estimateRequestTokens, loadTokenizer } from "../gateway/src/limits/tokens";
import { GatewayMetrics } from "../gateway/src/metrics/registry";
import { SseUsageFilter } from "../gateway/src/stream/sse-usage-filter";
import { streamEvents } from "./mock-upstream";
import { timeRelay } from "./lib/stream-micro";

function time(label: string, iterations: number, fn: () => unknown): { label: string; us: number } {
  for (let i = 0; i < Math.min(2_000, iterations); i++) fn(); // warm the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  return { label, us };
}

function chatBody(promptChars: number): Record<string, unknown> {
  const words = "the quick brown fox jumps over the lazy dog while the gateway counts every token of it ";
  const text = words.repeat(Math.ceil(promptChars / words.length)).slice(0, promptChars);
  return { model: "gpt-4o-mini", messages: [{ role: "system", content: "You are a helpful assistant." }, { role: "user", content: text }], max_tokens: 256 };
}

function completion(chars: number): Buffer {
  const content = "word ".repeat(Math.ceil(chars / 5)).slice(0, chars);
  return Buffer.from(JSON.stringify({ id: "chatcmpl-x", object: "chat.completion", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 } }));
}

function main(): void {
  loadTokenizer();
  const rows: { label: string; us: number }[] = [];
  for (const chars of [60, 4_000, 40_000]) {
    const body = chatBody(chars);
    const raw = Buffer.from(JSON.stringify(body));
    const n = chars > 10_000 ? 300 : 5_000;
    const tag = `${(raw.length / 1024).toFixed(1)} KiB request`;
    rows.push(time(`parse request JSON (parseBody), ${tag}`, n, () => JSON.parse(raw.toString("utf8"))));
    rows.push(time(`token estimate at admission, same text every call, ${tag}`, n, () => estimateRequestTokens("chat.completions", body, 1024)));
    let fresh = 0;
    const messages = body.messages as { role: string; content: string }[];
    rows.push(
      time(`token estimate at admission, a new user text every call, ${tag}`, n, () =>
        estimateRequestTokens("chat.completions", { ...body, messages: [messages[0], { role: "user", content: `${fresh++} ${messages[1].content}` }] }, 1024),
      ),
    );
    rows.push(time(`re-serialise body to inject stream_options (bodyFor), ${tag}`, n, () => Buffer.from(JSON.stringify({ ...body, model: "gpt-4o-mini", stream_options: { include_usage: true } }))));
  }
  for (const chars of [100, 4_000, 100_000]) {
    const buf = completion(chars);
    const n = chars > 10_000 ? 500 : 20_000;
    rows.push(time(`parse upstream answer (parseJsonObject), ${(buf.length / 1024).toFixed(1)} KiB`, n, () => JSON.parse(buf.toString("utf8"))));
  }
  const secret = "sk-bench-0123456789abcdef0123456789abcdef";
  const digest = hashKey(secret);
  rows.push(time("key check: sha256 hex + timingSafeEqual (authenticate)", 50_000, () => digestsEqual(hashKey(secret), digest)));
  rows.push(time("monthOf(Date.now()) (admit, every request)", 100_000, () => monthOf(Date.now())));
  rows.push(time("randomUUID request id", 100_000, () => randomUUID()));

  const sink = new Writable({ write: (_c, _e, done) => done() });
  const { logger, accessLog } = createLoggers("info", sink);
  const record = { reqId: "9bbaf173-9abb-4617-b866-1b1bc4dba006", route: "chat.completions", model: "gpt-4o-mini", key: "bench", team: "bench", target: "upstream-1", status: 200, attempts: 1, latencyMs: 1.23, ttftMs: undefined, promptTokens: 19, completionTokens: 20, cache: undefined };
  rows.push(time("log line through the general logger (pino, redact paths)", 50_000, () => logger.info(record, "request")));
  rows.push(time("access-log line (pino, no redaction)", 50_000, () => accessLog.info(record, "request")));
  rows.push(time("same line, JSON.stringify by hand", 50_000, () => sink.write(`${JSON.stringify({ level: "info", time: Date.now(), ...record, msg: "request" })}\n`)));

  const metrics = new GatewayMetrics();
  rows.push(
    time("metrics per request (requests, duration, upstream, tokens ×2, inflight ±)", 50_000, () => {
      metrics.inflight.inc();
      metrics.requestsFor("chat.completions", "gpt-4o-mini", "upstream-1", "200").inc();
      metrics.requestDurationFor("chat.completions", "gpt-4o-mini").observe(0.0012);
      metrics.upstreamDurationFor("gpt-4o-mini", "upstream-1").observe(0.0008);
      metrics.tokensFor("gpt-4o-mini", "prompt").inc(19);
      metrics.tokensFor("gpt-4o-mini", "completion").inc(20);
      metrics.inflight.dec();
    }),
  );
  const events = Buffer.concat(streamEvents());
  rows.push(
    time("SSE usage filter, one 24-event stream in one chunk (drop injected usage)", 20_000, () => {
      const f = new SseUsageFilter(true);
      f.push(events);
      f.flush();
    }),
  );
  rows.push(...timeRelay(time));
  const width = Math.max(...rows.map((r) => r.label.length));
  process.stdout.write(`Per-call cost on ${process.version} (in-process, warm; machine load moves these):\n\n| Step | µs/call |\n|---|---:|\n`);
  for (const r of rows) process.stdout.write(`| ${r.label.padEnd(width)} | ${r.us.toFixed(2)} |\n`);
}

main();
