/**
 * Client side of the reliability suites: JSON and SSE requests that never hang (every read has
 * a deadline), raw-socket requests for malformed HTTP, and the checks every answer must pass.
 */
import { connect } from "node:net";
import { request, type Dispatcher } from "undici";

export interface JsonAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  ms: number;
}

export interface SseAnswer {
  status: number;
  headers: Record<string, string>;
  /** Every `data:` payload, in order. */
  events: string[];
  /** The stream ended with `data: [DONE]`. */
  done: boolean;
  /** An `{"error":…}` event, as the gateway sends when a stream breaks off. */
  error: { message: string; type: string; code: string | null } | null;
  /** Set when the body broke off (reset, timeout) instead of ending cleanly. */
  transportError: string | null;
  /** The concatenated `choices[0].delta.content` (or `text`). */
  content: string;
  /** The raw body of a non-200 answer. */
  text: string;
  ms: number;
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  return out;
}

export interface RequestOptions {
  dispatcher?: Dispatcher;
  headers?: Record<string, string>;
  /** Bound on waiting for headers and between body chunks (a hang fails the test, not the suite). */
  timeoutMs?: number;
  method?: "POST" | "GET";
}

/** POSTs `body` (an object is sent as JSON) and reads the whole answer. */
export async function postJson(base: string, path: string, body: unknown, options: RequestOptions = {}): Promise<JsonAnswer> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 15_000;
  const res = await request(`${base}${path}`, {
    method: options.method ?? "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: options.method === "GET" ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    dispatcher: options.dispatcher,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: flatHeaders(res.headers), text, ms: performance.now() - started };
}

export const chatBody = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content: "hello" }], ...extra });

/**
 * POSTs a streaming request and reads it to its end, whatever that end is; `onEvent` sees the
 * running event count (tests wait on it to act while a stream is under way).
 */
export async function streamChat(base: string, body: Record<string, unknown>, options: RequestOptions & { path?: string; onEvent?: (count: number) => void } = {}): Promise<SseAnswer> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 15_000;
  const answer: SseAnswer = { status: 0, headers: {}, events: [], done: false, error: null, transportError: null, content: "", text: "", ms: 0 };
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${base}${options.path ?? "/v1/chat/completions"}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify({ ...body, stream: true }),
      dispatcher: options.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (err) {
    answer.transportError = (err as { code?: string }).code ?? (err as Error).message;
    answer.ms = performance.now() - started;
    return answer;
  }
  answer.status = res.statusCode;
  answer.headers = flatHeaders(res.headers);
  if (res.statusCode !== 200) {
    answer.text = await res.body.text();
    answer.ms = performance.now() - started;
    return answer;
  }
  let buffered = "";
  try {
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString("utf8");
      let end: number;
      while ((end = buffered.indexOf("\n\n")) !== -1) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        for (const line of event.split("\n")) if (line.startsWith("data: ")) readEvent(answer, line.slice(6));
        options.onEvent?.(answer.events.length);
      }
    }
  } catch (err) {
    answer.transportError = (err as { code?: string }).code ?? (err as Error).message;
  }
  answer.ms = performance.now() - started;
  return answer;
}

function readEvent(answer: SseAnswer, data: string): void {
  answer.events.push(data);
  if (data === "[DONE]") {
    answer.done = true;
    return;
  }
  const parsed = JSON.parse(data) as { error?: SseAnswer["error"]; choices?: { delta?: { content?: string }; text?: string }[] };
  if (parsed.error) answer.error = parsed.error;
  const choice = parsed.choices?.[0];
  if (choice) answer.content += choice.delta?.content ?? choice.text ?? "";
}

/** The OpenAI error object of an error answer; throws (failing the test) when it is not one. */
export function openAiError(status: number, headers: Record<string, string>, text: string): { message: string; type: string; code: string | null; param: unknown } {
  if (status < 400) throw new Error(`expected an error status, got ${status}: ${text.slice(0, 200)}`);
  if (!(headers["content-type"] ?? "").startsWith("application/json")) throw new Error(`error ${status} is not JSON (${headers["content-type"]}): ${text.slice(0, 200)}`);
  const parsed = JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } };
  const error = parsed.error;
  if (!error || typeof error.message !== "string" || error.message.length === 0 || typeof error.type !== "string" || !("code" in error) || !("param" in error)) {
    throw new Error(`error ${status} is not OpenAI-shaped: ${text.slice(0, 200)}`);
  }
  return error as { message: string; type: string; code: string | null; param: unknown };
}

export interface RawAnswer {
  /** 0 when the connection closed before a whole status line arrived. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (as opposed to: the answer was complete and the socket still open). */
  closed: boolean;
  /** Every byte received. */
  raw: string;
  ms: number;
}

/**
 * Writes `payload` on a fresh socket (then `trickle` every `everyMs`, slowloris style) and reads
 * one HTTP answer: until its content-length is complete, the chunked body ends, or the socket
 * closes; `timeoutMs` bounds the wait.
 */
export function rawRequest(port: number, payload: string | Buffer, options: { trickle?: string | Buffer; everyMs?: number; timeoutMs?: number; waitForClose?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let settled = false;
    let ticker: NodeJS.Timeout | null = null;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (ticker) clearInterval(ticker);
      socket.destroy();
      resolve({ ...parseRaw(Buffer.concat(chunks)), closed, ms: performance.now() - started });
    };
    const deadline = setTimeout(() => finish(false), options.timeoutMs ?? 10_000);
    socket.on("connect", () => {
      socket.write(payload);
      if (options.trickle !== undefined) {
        ticker = setInterval(() => {
          if (!socket.destroyed && socket.writable) socket.write(options.trickle!);
        }, options.everyMs ?? 200);
      }
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (!options.waitForClose && answerComplete(Buffer.concat(chunks))) finish(false);
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
  });
}

function splitHead(raw: Buffer): { head: string; body: Buffer } | null {
  const end = raw.indexOf("\r\n\r\n");
  if (end === -1) return null;
  return { head: raw.subarray(0, end).toString("latin1"), body: raw.subarray(end + 4) };
}

function headerMap(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function answerComplete(raw: Buffer): boolean {
  const parts = splitHead(raw);
  if (!parts) return false;
  const headers = headerMap(parts.head);
  if (headers["content-length"] !== undefined) return parts.body.length >= Number(headers["content-length"]);
  if ((headers["transfer-encoding"] ?? "").includes("chunked")) return parts.body.includes("0\r\n\r\n");
  return false;
}

function parseRaw(raw: Buffer): Omit<RawAnswer, "closed" | "ms"> {
  const parts = splitHead(raw);
  const match = parts ? /^HTTP\/1\.[01] (\d{3}) /.exec(parts.head) : null;
  if (!parts || !match) return { status: 0, headers: {}, body: "", raw: raw.toString("latin1") };
  const headers = headerMap(parts.head);
  let body = parts.body.toString("utf8");
  if (headers["content-length"] !== undefined) body = parts.body.subarray(0, Number(headers["content-length"])).toString("utf8");
  return { status: Number(match[1]), headers, body, raw: raw.toString("latin1") };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
