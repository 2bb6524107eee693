/**
 * A Chat Completions stream as Anthropic's event stream, chunk by chunk: message_start (and a
 * ping) on the first chunk, one content block per run of reasoning (thinking), text or tool call,
 * then message_delta with the stop reason and usage, and message_stop. An error event upstream
 * becomes Anthropic's `error` event.
 */
import { anthropicErrorJson } from "../../dialects/anthropic/errors";
import { anthropicUsageOf } from "../../dialects/anthropic/usage";
import { formatEvent, type SseEvent } from "../../stream/sse-reader";
import type { Usage } from "../../traffic/types";
import { STOP_TO_ANTHROPIC, usageFromOpenai } from "./response";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

type BlockKind = "thinking" | "text" | "tool_use";

export class OpenaiStreamToAnthropic {
  usage: Usage | null = null;
  private started = false;
  private finished = false;
  private block: { kind: BlockKind; index: number; toolIndex?: number } | null = null;
  private nextIndex = 0;
  /** OpenAI tool call index → Anthropic block index. */
  private readonly toolBlocks = new Map<number, number>();
  /**
   * Tool blocks started and not yet stopped. Parallel tool calls stay open together until a text
   * or thinking block or the end: some upstreams interleave their arguments (call 0, call 1, call
   * 0 again), and a delta for a block already stopped is dropped by clients (the AI SDK lost the
   * first call's arguments).
   */
  private readonly openTools: number[] = [];
  private stopReason: string | null = null;

  constructor(private readonly model: string) {}

  /** The Anthropic events for some upstream events. */
  push(events: readonly SseEvent[]): string {
    let out = "";
    for (const event of events) {
      if (this.finished || event.data === null) continue;
      if (event.data === "[DONE]") {
        out += this.finish();
        continue;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (!isObject(chunk)) continue;
      if (isObject(chunk.error)) {
        this.finished = true;
        return out + formatEvent("error", anthropicErrorJson("api_error", String(chunk.error.message ?? "The upstream stream failed.")));
      }
      out += this.start(chunk);
      if (chunk.usage !== undefined && chunk.usage !== null) this.usage = usageFromOpenai(chunk.usage) ?? this.usage;
      const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : null;
      if (choice === null) continue;
      const delta = isObject(choice.delta) ? choice.delta : {};
      if (typeof delta.reasoning_content === "string" && delta.reasoning_content.length > 0) {
        out += this.open("thinking", { type: "thinking", thinking: "", signature: "" });
        out += this.delta({ type: "thinking_delta", thinking: delta.reasoning_content });
      }
      if (typeof delta.content === "string" && delta.content.length > 0) {
        out += this.open("text", { type: "text", text: "" });
        out += this.delta({ type: "text_delta", text: delta.content });
      }
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isObject) : []) out += this.toolCall(call);
      if (typeof choice.finish_reason === "string") this.stopReason = STOP_TO_ANTHROPIC[choice.finish_reason] ?? "end_turn";
    }
    return out;
  }

  /** At the end of the upstream stream: the closing events, unless [DONE] already sent them. */
  end(): string {
    return this.finished || !this.started ? "" : this.finish();
  }

  private start(chunk: Json): string {
    if (this.started) return "";
    this.started = true;
    const message = {
      id: `msg_${String(chunk.id ?? "gateway").replace(/^chatcmpl-/, "")}`,
      type: "message",
      role: "assistant",
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return formatEvent("message_start", JSON.stringify({ type: "message_start", message })) + formatEvent("ping", '{"type":"ping"}');
  }

  private toolCall(call: Json): string {
    const openaiIndex = typeof call.index === "number" ? call.index : 0;
    const fn = isObject(call.function) ? call.function : {};
    let out = "";
    let index = this.toolBlocks.get(openaiIndex);
    if (index === undefined) {
      if (this.block?.kind !== "tool_use") out += this.close();
      index = this.nextIndex++;
      this.toolBlocks.set(openaiIndex, index);
      this.openTools.push(index);
      this.block = { kind: "tool_use", index, toolIndex: openaiIndex };
      const block = { type: "tool_use", id: String(call.id ?? `toolu_${index}`), name: String(fn.name ?? ""), input: {} };
      out += formatEvent("content_block_start", JSON.stringify({ type: "content_block_start", index, content_block: block }));
    }
    if (typeof fn.arguments === "string" && fn.arguments.length > 0) {
      out += formatEvent("content_block_delta", JSON.stringify({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: fn.arguments } }));
    }
    return out;
  }

  /** Opens a block of `kind` unless one is open. */
  private open(kind: BlockKind, contentBlock: Json): string {
    if (this.block?.kind === kind && kind !== "tool_use") return "";
    const out = this.closeAll();
    const index = this.nextIndex++;
    this.block = { kind, index };
    return out + formatEvent("content_block_start", JSON.stringify({ type: "content_block_start", index, content_block: contentBlock }));
  }

  private delta(delta: Json): string {
    return formatEvent("content_block_delta", JSON.stringify({ type: "content_block_delta", index: this.block!.index, delta }));
  }

  /** Stops the open text or thinking block (tool blocks are stopped by closeAll). */
  private close(): string {
    if (this.block === null || this.block.kind === "tool_use") return "";
    const index = this.block.index;
    this.block = null;
    return stopEvent(index);
  }

  private closeAll(): string {
    let out = this.close();
    for (const index of this.openTools) out += stopEvent(index);
    this.openTools.length = 0;
    this.block = null;
    return out;
  }

  private finish(): string {
    this.finished = true;
    const usage = anthropicUsageOf(this.usage ?? { promptTokens: 0, completionTokens: 0 });
    const delta = { type: "message_delta", delta: { stop_reason: this.stopReason ?? "end_turn", stop_sequence: null }, usage };
    return this.closeAll() + formatEvent("message_delta", JSON.stringify(delta)) + formatEvent("message_stop", '{"type":"message_stop"}');
  }
}

function stopEvent(index: number): string {
  return formatEvent("content_block_stop", JSON.stringify({ type: "content_block_stop", index }));
}
