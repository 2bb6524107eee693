/**
 * A stream that says 200 and then opens with an error event: Anthropic's `event: error`
 * (`overloaded_error` under load, `api_error`), an OpenAI-compatible server's `data: {"error":…}`,
 * the Responses API's `error` and `response.failed` events. Nothing has reached the client when the first read is judged,
 * so a server-side error there is failed over like the 529/5xx/429 it stands for; an error about
 * the request itself (invalid_request_error, context length…) is the client's and is relayed.
 * Only whole events of the first read are looked at; bookkeeping events before it (message_start,
 * ping, SSE comments) are skipped, since they carry nothing the client would miss.
 */
import type { AttemptFailure } from "./failure";

/** Events a stream may open with before its content: no text, no tool call. */
const PREAMBLE_EVENTS = new Set(["message_start", "ping", "response.created", "response.in_progress"]);

const RATE_LIMITED = /rate_limit|too_many_requests|quota_exceeded_temporarily/;
const OVERLOADED = /overloaded|unavailable|capacity/;
const SERVER_SIDE = /api_error|server_error|internal|upstream_error|timeout/;

/** Why the stream's first read must not be committed to, or null when it may. */
export function streamStartFailure(first: Buffer): AttemptFailure | null {
  // Cheap guard for the hot path: no error event without the word.
  if (first.indexOf("error") < 0) return null;
  const text = first.toString("utf8");
  let at = 0;
  for (;;) {
    const end = eventEnd(text, at);
    if (end < 0) return null;
    const event = parseEvent(text.slice(at, end));
    at = nextStart(text, end);
    if (event === null) continue; // comments and blank padding
    if (event.name !== null && PREAMBLE_EVENTS.has(event.name)) continue;
    if (event.name === null && event.data !== null && isPreambleData(event.data)) continue;
    return errorFailure(event);
  }
}

interface SseEvent {
  name: string | null;
  data: string | null;
}

/** Index of the blank line closing the event starting at `from`, or -1 when the read ends first. */
function eventEnd(text: string, from: number): number {
  const lf = text.indexOf("\n\n", from);
  const crlf = text.indexOf("\r\n\r\n", from);
  if (lf < 0) return crlf;
  if (crlf < 0) return lf;
  return Math.min(lf, crlf);
}

function nextStart(text: string, end: number): number {
  return text.startsWith("\r\n\r\n", end) ? end + 4 : end + 2;
}

function parseEvent(block: string): SseEvent | null {
  let name: string | null = null;
  let data: string | null = null;
  for (const raw of block.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data = data === null ? value : `${data}\n${value}`;
  }
  return name === null && data === null ? null : { name, data };
}

/** An OpenAI-style first chunk with no content yet (the role, or nothing): nothing the client would miss. */
function isPreambleData(data: string): boolean {
  const json = parseObject(data);
  if (json === null || json.error !== undefined) return false;
  const choices = json.choices;
  if (!Array.isArray(choices)) return false;
  return choices.every((c) => {
    const delta = isObject(c) && isObject(c.delta) ? c.delta : null;
    return delta !== null && c.finish_reason == null && (delta.content === undefined || delta.content === "" || delta.content === null) && delta.tool_calls === undefined && delta.reasoning_content == null;
  });
}

function errorFailure(event: SseEvent): AttemptFailure | null {
  const json = event.data === null ? null : parseObject(event.data);
  // The Responses API reports a failed generation as response.failed, its error inside the response.
  const failedResponse = json !== null && json.type === "response.failed" && isObject(json.response) && isObject(json.response.error) ? json.response.error : null;
  const isError = failedResponse !== null || event.name === "error" || (json !== null && (json.type === "error" || isObject(json.error)));
  if (!isError) return null;
  const inner = failedResponse ?? (json !== null && isObject(json.error) ? json.error : json);
  const kind = [inner?.type, inner?.code, json?.code].filter((v) => typeof v === "string" || typeof v === "number").join(" ").toLowerCase();
  const detail = `error event at the stream's start (${kind.slice(0, 80) || "untyped"})`;
  if (RATE_LIMITED.test(kind)) return { reason: "status_429", status: 429, retryAfterMs: null, detail };
  if (OVERLOADED.test(kind)) return { reason: "status_5xx", status: 529, detail };
  if (SERVER_SIDE.test(kind) || kind === "") return { reason: "status_5xx", status: 500, detail };
  return null;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
