/** streamStartFailure: which first reads of a 200 stream are failed over, and which are committed to. */
import { streamStartFailure } from "../../../gateway/src/upstream/stream-start-error";

const read = (text: string) => streamStartFailure(Buffer.from(text));
const ev = (event: string | null, data: unknown, eol = "\n") => `${event ? `event: ${event}${eol}` : ""}data: ${JSON.stringify(data)}${eol}${eol}`;

describe("streamStartFailure", () => {
  it("fails over server-side errors: overloaded as 529, api/server errors as 500, rate limits as 429", () => {
    expect(read(ev("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }))).toMatchObject({ reason: "status_5xx", status: 529 });
    expect(read(ev("error", { type: "error", error: { type: "api_error", message: "Internal" } }))).toMatchObject({ reason: "status_5xx", status: 500 });
    expect(read(ev(null, { error: { message: "x", type: "server_error", code: null } }))).toMatchObject({ reason: "status_5xx", status: 500 });
    expect(read(ev(null, { error: { message: "slow down", type: "requests", code: "rate_limit_exceeded" } }))).toMatchObject({ reason: "status_429", status: 429 });
    expect(read(ev("error", { type: "error", code: "server_error", message: "boom" }))).toMatchObject({ reason: "status_5xx" });
    const created = ev("response.created", { type: "response.created", response: { id: "resp_1", status: "in_progress" } });
    expect(read(created + ev("response.failed", { type: "response.failed", response: { id: "resp_1", status: "failed", error: { code: "server_error", message: "x" } } }))).toMatchObject({ reason: "status_5xx", status: 500 });
    expect(read(created + ev("response.failed", { type: "response.failed", response: { id: "resp_1", status: "failed", error: { code: "invalid_prompt", message: "x" } } }))).toBeNull();
  });

  it("skips the preamble (comments, message_start, ping, a role-only chunk) before the error", () => {
    const start = ev("message_start", { type: "message_start", message: { usage: { input_tokens: 1 } } }) + ev("ping", { type: "ping" });
    expect(read(`: keep-alive\n\n${start}${ev("error", { type: "error", error: { type: "overloaded_error" } })}`)).toMatchObject({ status: 529 });
    const role = ev(null, { choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    expect(read(role + ev(null, { error: { type: "server_error", message: "x" } }), )).toMatchObject({ status: 500 });
    expect(read(start.replace(/\n/g, "\r\n") + ev("error", { type: "error", error: { type: "api_error" } }, "\r\n"))).toMatchObject({ status: 500 });
  });

  it("commits to streams whose first event is content, even when the text says error, and relays the client's own errors", () => {
    expect(read(ev(null, { choices: [{ index: 0, delta: { content: "an error occurred in your code" }, finish_reason: null }] }) + ev(null, { error: { type: "server_error" } }))).toBeNull();
    expect(read(ev("content_block_delta", { type: "content_block_delta", delta: { type: "text_delta", text: "error" } }))).toBeNull();
    expect(read(ev("error", { type: "error", error: { type: "invalid_request_error", message: "prompt is too long" } }))).toBeNull();
    expect(read(ev(null, { error: { type: "invalid_request_error", code: "context_length_exceeded" } }))).toBeNull();
  });

  it("decides nothing from an event the read cut short", () => {
    expect(read('event: error\ndata: {"type":"error","error":{"type":"overloaded_error"')).toBeNull();
    expect(read("data: not json with error\n\n")).toBeNull();
  });
});
