/**
 * A streamed Chat Completion as the typed Responses event stream, as a pure state machine: feed
 * it the Chat chunks (parsed JSON) and it returns the SSE events to send. `start()` opens with
 * `response.created` and `response.in_progress`; reasoning, text, refusal and tool-call deltas
 * open output items (`output_item.added`, `content_part.added`), stream their deltas and close
 * them (`…done`) when another kind of item starts or the stream ends; `finish()` ends with
 * `response.completed` (or `response.incomplete` after `finish_reason: length`) carrying the
 * usage; `fail()` ends a broken stream with `response.failed` and an `error` event, so clients
 * raise an error instead of keeping a truncated answer.
 */
import type { Usage } from "../../traffic/types";
import { itemId } from "./ids";
import { isObject, type Item } from "./input-items";
import { endOfFinish, functionCallItem, messageItem, outputTextPart, reasoningItem, refusalPart, responseObject, type ResponseContext, type ResponseEnd } from "./response-object";
import { usageFromChat } from "./usage";

interface OpenReasoning {
  kind: "reasoning";
  id: string;
  index: number;
  text: string;
}

interface OpenMessage {
  kind: "message";
  id: string;
  index: number;
  /** Closed parts first, the open one last. */
  parts: Item[];
  open: { type: "output_text" | "refusal"; text: string } | null;
}

interface OpenCall {
  kind: "call";
  id: string;
  index: number;
  callId: string;
  name: string;
  args: string;
}

type OpenItem = OpenReasoning | OpenMessage | OpenCall;

/** One SSE event in the Responses framing (`event:` names the type, as OpenAI sends it). */
export function sseEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export class ChatStreamToResponses {
  private seq = 0;
  /** Every output item so far, by output index (done ones final, open ones as of now). */
  private readonly output: Item[] = [];
  private readonly open: OpenItem[] = [];
  /** Tool calls by their Chat `index`; a call whose name has not arrived yet is pending. */
  private readonly calls = new Map<number, OpenCall | { pending: true; callId: string; name: string; args: string }>();
  private finishReason: unknown = null;
  private ended = false;
  usage: Usage | null = null;
  /** The last response object sent (the final one once the stream ended). */
  response: Record<string, unknown> | null = null;

  constructor(private readonly ctx: ResponseContext) {}

  get done(): boolean {
    return this.ended;
  }

  start(): string[] {
    const snapshot = responseObject(this.ctx, { status: "in_progress", output: [], usage: null });
    this.response = snapshot;
    return [this.event("response.created", { response: snapshot }), this.event("response.in_progress", { response: snapshot })];
  }

  /** The events for one Chat chunk. An `{"error":…}` chunk fails the response. */
  chunk(chunk: Record<string, unknown>): string[] {
    if (this.ended) return [];
    if (isObject(chunk.error)) return this.fail("upstream_error", typeof chunk.error.message === "string" ? chunk.error.message : "The upstream reported an error mid-stream.");
    const out: string[] = [];
    if (isObject(chunk.usage)) this.usage = usageFromChat(chunk.usage) ?? this.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find(isObject) : undefined;
    if (choice === undefined) return out;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === "string" && reasoning.length > 0) this.reasoningDelta(reasoning, out);
    if (typeof delta.content === "string" && delta.content.length > 0) this.textDelta("output_text", delta.content, out);
    if (typeof delta.refusal === "string" && delta.refusal.length > 0) this.textDelta("refusal", delta.refusal, out);
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) if (isObject(call)) this.callDelta(call, out);
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.finishReason = choice.finish_reason;
    return out;
  }

  /** The stream ended normally: close what is open, then the terminal event with usage. */
  finish(): string[] {
    if (this.ended) return [];
    const out: string[] = [];
    this.closeAll(null, out);
    const end = endOfFinish(this.finishReason);
    this.ended = true;
    const response = responseObject(this.ctx, { ...end, output: this.output, usage: this.usage });
    this.response = response;
    out.push(this.event(end.status === "completed" ? "response.completed" : "response.incomplete", { response }));
    return out;
  }

  /** The stream broke: `response.failed` with what was produced so far, then an `error` event. */
  fail(code: string, message: string): string[] {
    if (this.ended) return [];
    this.ended = true;
    for (const item of this.open) this.output[item.index] = { ...this.snapshot(item), status: "incomplete" };
    const end: ResponseEnd = { status: "failed", output: this.output, usage: this.usage, error: { code, message } };
    const response = responseObject(this.ctx, end);
    this.response = response;
    const failed = this.event("response.failed", { response });
    const error = this.event("error", { code, message, param: null, error: { type: "server_error", code, message, param: null } });
    return [failed, error];
  }

  private event(type: string, data: Record<string, unknown>): string {
    return sseEvent(type, { ...data, sequence_number: this.seq++ });
  }

  private reasoningDelta(text: string, out: string[]): void {
    let item = this.open.find((i): i is OpenReasoning => i.kind === "reasoning");
    if (item === undefined) {
      this.closeAll("reasoning", out);
      const index = this.output.length;
      item = { kind: "reasoning", id: itemId("rs", this.ctx.id, index), index, text: "" };
      this.openItem(item, { id: item.id, type: "reasoning", summary: [], content: [] }, out);
      out.push(this.event("response.content_part.added", { item_id: item.id, output_index: index, content_index: 0, part: { type: "reasoning_text", text: "" } }));
    }
    item.text += text;
    out.push(this.event("response.reasoning_text.delta", { item_id: item.id, output_index: item.index, content_index: 0, delta: text }));
  }

  private textDelta(type: "output_text" | "refusal", text: string, out: string[]): void {
    let item = this.open.find((i): i is OpenMessage => i.kind === "message");
    if (item === undefined) {
      this.closeAll("message", out);
      const index = this.output.length;
      item = { kind: "message", id: itemId("msg", this.ctx.id, index), index, parts: [], open: null };
      this.openItem(item, messageItem(item.id, "in_progress", []), out);
    }
    if (item.open !== null && item.open.type !== type) this.closePart(item, out);
    const contentIndex = item.parts.length;
    if (item.open === null) {
      item.open = { type, text: "" };
      out.push(this.event("response.content_part.added", { item_id: item.id, output_index: item.index, content_index: contentIndex, part: type === "refusal" ? refusalPart("") : outputTextPart("") }));
    }
    item.open.text += text;
    const base = { item_id: item.id, output_index: item.index, content_index: contentIndex, delta: text };
    out.push(type === "refusal" ? this.event("response.refusal.delta", base) : this.event("response.output_text.delta", { ...base, logprobs: [] }));
  }

  private callDelta(call: Record<string, unknown>, out: string[]): void {
    const chatIndex = typeof call.index === "number" ? call.index : 0;
    const fn = isObject(call.function) ? call.function : {};
    let state = this.calls.get(chatIndex);
    if (state === undefined) {
      state = { pending: true, callId: typeof call.id === "string" ? call.id : "", name: "", args: "" };
      this.calls.set(chatIndex, state);
    }
    if ("pending" in state) {
      if (typeof call.id === "string" && state.callId === "") state.callId = call.id;
      if (typeof fn.name === "string") state.name += fn.name;
      if (typeof fn.arguments === "string") state.args += fn.arguments;
      // Announced once its name is known; arguments that came before it are sent as the first delta.
      if (state.name === "") return;
      this.closeAll("call", out);
      const index = this.output.length;
      const id = itemId("fc", this.ctx.id, index);
      const opened: OpenCall = { kind: "call", id, index, callId: state.callId || `call_${id.slice(3)}`, name: state.name, args: "" };
      this.calls.set(chatIndex, opened);
      this.openItem(opened, functionCallItem(id, "in_progress", opened.callId, opened.name, ""), out);
      if (state.args.length > 0) this.argsDelta(opened, state.args, out);
      return;
    }
    if (typeof fn.arguments === "string" && fn.arguments.length > 0) this.argsDelta(state, fn.arguments, out);
  }

  private argsDelta(call: OpenCall, delta: string, out: string[]): void {
    call.args += delta;
    out.push(this.event("response.function_call_arguments.delta", { item_id: call.id, output_index: call.index, delta }));
  }

  private openItem(item: OpenItem, announced: Item, out: string[]): void {
    this.open.push(item);
    this.output[item.index] = announced;
    out.push(this.event("response.output_item.added", { output_index: item.index, item: announced }));
  }

  /** Closes every open item except those of `keep`, in output order. */
  private closeAll(keep: OpenItem["kind"] | null, out: string[]): void {
    for (const item of [...this.open]) {
      if (item.kind === keep) continue;
      this.close(item, out);
      this.open.splice(this.open.indexOf(item), 1);
    }
  }

  private closePart(item: OpenMessage, out: string[]): void {
    const part = item.open!;
    const base = { item_id: item.id, output_index: item.index, content_index: item.parts.length };
    const done = part.type === "refusal" ? refusalPart(part.text) : outputTextPart(part.text);
    if (part.type === "refusal") out.push(this.event("response.refusal.done", { ...base, refusal: part.text }));
    else out.push(this.event("response.output_text.done", { ...base, text: part.text, logprobs: [] }));
    out.push(this.event("response.content_part.done", { ...base, part: done }));
    item.parts.push(done);
    item.open = null;
  }

  private close(item: OpenItem, out: string[]): void {
    if (item.kind === "message" && item.open !== null) this.closePart(item, out);
    if (item.kind === "reasoning") {
      const base = { item_id: item.id, output_index: item.index, content_index: 0 };
      out.push(this.event("response.reasoning_text.done", { ...base, text: item.text }));
      out.push(this.event("response.content_part.done", { ...base, part: { type: "reasoning_text", text: item.text } }));
    }
    if (item.kind === "call") out.push(this.event("response.function_call_arguments.done", { item_id: item.id, output_index: item.index, name: item.name, arguments: item.args }));
    const final = this.snapshot(item);
    this.output[item.index] = final;
    out.push(this.event("response.output_item.done", { output_index: item.index, item: final }));
  }

  /** The item as it stands (completed). */
  private snapshot(item: OpenItem): Item {
    switch (item.kind) {
      case "reasoning":
        return reasoningItem(item.id, item.text);
      case "call":
        return functionCallItem(item.id, "completed", item.callId, item.name, item.args);
      case "message": {
        const parts = [...item.parts];
        if (item.open !== null) parts.push(item.open.type === "refusal" ? refusalPart(item.open.text) : outputTextPart(item.open.text));
        return messageItem(item.id, "completed", parts);
      }
    }
  }
}
