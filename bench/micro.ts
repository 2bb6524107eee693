/**
 * `npm run bench:micro`: per-call cost of the gateway pipeline's per-request steps, in-process,
 * for small and realistic request sizes — the steps the CPU profile points at, measured apart
 * so their growth with prompt and answer size shows. Not a gate: figures move with the machine.
 */
import { randomUUID } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { LineSink } from "../gateway/src/log-sink";
import { Writable } from "node:stream";
import { hashKey, digestsEqual } from "../gateway/src/auth/key-hash";
import { monthOf } from "../gateway/src/budget/spend";
import { AccessLog, createLoggers } from "../gateway/src/log";
import type { DestinationStream } from "pino";
import { estimateRequestTokens, loadTokenizer } from "../gateway/src/limits/tokens";
import { GatewayMetrics } from "../gateway/src/metrics/registry";
import { Counter, Registry } from "prom-client";
import { newRecord } from "../gateway/src/handlers/request-record";
import { requestLineFields } from "../gateway/src/handlers/access-line";
import { topLevelUsage } from "../gateway/src/upstream/answer-usage";
import { parseJsonObject } from "../gateway/src/upstream/answer-body";
import { usageFromObject } from "../gateway/src/stream/usage";
import type { ClientIdentity } from "../gateway/src/traffic/types";
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

/**
 * One access line written to a file through each destination, as the server does: a batch per
 * event-loop turn, then the writes drained. CPU of every thread (sonic-boom wrote from libuv's pool).
 */
async function destinationRows(): Promise<{ label: string; us: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), "aigw-micro-"));
  const fd = openSync(join(dir, "log"), "w");
  const line = `${JSON.stringify({ level: "info", time: new Date().toISOString(), reqId: randomUUID(), route: "chat.completions", model: "gpt-4o-mini", status: 200, attempts: 1, latencyMs: 0.62, promptTokens: 19, completionTokens: 20, msg: "request" })}\n`;
  const run = async (label: string, dest: { write(s: string): unknown; flush?(cb?: () => void): void }) => {
    const lines = 100_000;
    const started = process.cpuUsage();
    for (let i = 0; i < lines; i += 64) {
      for (let j = 0; j < 64; j++) dest.write(line);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise<void>((resolve) => (dest.flush ? dest.flush(() => resolve()) : resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const used = process.cpuUsage(started);
    return { label, us: (used.user + used.system) / lines };
  };
  try {
    return [
      await run("log destination, one line: pino sonic-boom, async, 8 KiB batches (before; CPU of all threads)", pino.destination({ dest: fd, sync: false, minLength: 8192, periodicFlush: 250 })),
      await run("log destination, one line: LineSink, 64 KiB writes", new LineSink({ fd })),
      await run("log destination, one line: cluster worker, sonic-boom 4 KiB (before)", pino.destination({ dest: fd, sync: false, minLength: 4095, maxWrite: 4096, periodicFlush: 250 })),
      await run("log destination, one line: cluster worker, LineSink 4 KiB", new LineSink({ fd, chunkBytes: 4096 })),
    ];
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
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
  rows.push(time("access-log line (AccessLog.info, generic walk, no redaction)", 50_000, () => accessLog.info(record, "request")));
  // A destination that only keeps the length: the serialisation alone, no stream machinery.
  let written = 0;
  const bare = new AccessLog("info", { write: (line: string) => ((written += line.length), true) } as unknown as DestinationStream);
  const proxied = newRecord("127.0.0.1");
  Object.assign(proxied, { model: "gpt-4o-mini", upstreamModel: "gpt-4o-mini", target: "upstream-1", status: 200, attempts: 1, usage: { promptTokens: 19, completionTokens: 20 }, costNano: 14_850, identity: { keyId: "k", keyName: "bench", team: "bench" } as unknown as ClientIdentity });
  rows.push(time("proxied request's access-log line, generic (the object finishRecord built before)", 50_000, () => bare.info({ reqId: "9bbaf173-9abb-4617-b866-1b1bc4dba006", route: "chat.completions", model: "gpt-4o-mini", servedModel: undefined, upstreamModel: "gpt-4o-mini", stream: false, keyName: "bench", team: "bench", clientIp: "127.0.0.1", target: "upstream-1", status: 200, errorCode: undefined, refusal: undefined, interrupted: undefined, attempts: 1, upstreamRequestId: undefined, traceId: "0af7651916cd43dd8448eb211c80319c", latencyMs: 0.62, ttftMs: undefined, promptTokens: 19, completionTokens: 20, cachedTokens: undefined, cacheWriteTokens: undefined, reasoningTokens: undefined, usageEstimated: undefined, costUsd: 0.00001485, costEstimated: false, cache: undefined }, "request")));
  rows.push(time("proxied request's access-log line, hand-serialised (requestLineFields)", 50_000, () => bare.writeFields(requestLineFields("9bbaf173-9abb-4617-b866-1b1bc4dba006", "chat.completions", "gpt-4o-mini", "gpt-4o-mini", proxied, 0.62, "0af7651916cd43dd8448eb211c80319c"), "request")));
  rows.push(time("same line, JSON.stringify by hand", 50_000, () => sink.write(`${JSON.stringify({ level: "info", time: Date.now(), ...record, msg: "request" })}\n`)));

  const answer = completion(100);
  rows.push(time("answer usage: JSON.parse of the whole answer (before)", 50_000, () => usageFromObject(parseJsonObject(answer, {})?.usage)));
  rows.push(time("answer usage: tail scan (topLevelUsage)", 50_000, () => usageFromObject(topLevelUsage(answer))));
  const plainRegistry = new Registry();
  const plain = new Counter({ name: "plain_total", help: "h", labelNames: ["route", "model", "target", "status", "key", "team"], registers: [plainRegistry] });
  const plainChild = plain.labels("chat.completions", "gpt-4o-mini", "upstream-1", "200", "bench", "bench");
  rows.push(time("counter increment: prom-client child, 6 labels (before)", 200_000, () => plainChild.inc()));

  const metrics = new GatewayMetrics();
  rows.push(time("counter increment: counter series, 6 labels (requestsFor)", 200_000, () => metrics.requestsFor("chat.completions", "gpt-4o-mini", "upstream-1", "200", "bench", "bench").inc()));
  rows.push(
    time("metrics per request (requests, duration, upstream, tokens ×2, inflight ±)", 50_000, () => {
      metrics.inflight.inc();
      metrics.requestsFor("chat.completions", "gpt-4o-mini", "upstream-1", "200", "bench", "bench").inc();
      metrics.requestDurationFor("chat.completions", "gpt-4o-mini", "ok").observe(0.0012);
      metrics.upstreamDurationFor("gpt-4o-mini", "upstream-1").observe(0.0008);
      metrics.tokensFor("gpt-4o-mini", "prompt", "bench", "bench").inc(19);
      metrics.tokensFor("gpt-4o-mini", "completion", "bench", "bench").inc(20);
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
  for (const row of await destinationRows()) rows.push(row);
  if (written === 0) throw new Error("nothing serialised");
  const width = Math.max(...rows.map((r) => r.label.length));
  process.stdout.write(`Per-call cost on ${process.version} (in-process, warm; machine load moves these):\n\n| Step | µs/call |\n|---|---:|\n`);
  for (const r of rows) process.stdout.write(`| ${r.label.padEnd(width)} | ${r.us.toFixed(2)} |\n`);
}

void main();
