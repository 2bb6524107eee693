/**
 * Anthropic's event stream as a Chat Completions stream, event by event: text, thinking (as
 * `reasoning_content`) and tool_use blocks become deltas, message_delta the finish reason, and
 * message_stop the usage chunk (when the client asked for it) and `[DONE]`. Anthropic's `error`
 * event becomes the OpenAI-style error event the OpenAI SDKs raise.
 */
import { mergeAnthropicUsage, usageFromAnthropicCounts, type AnthropicUsageCounts } from "../../dialects/anthropic/usage";
import type { SseEvent } from "../../stream/sse-reader";
import type { Usage } from "../../traffic/types";
import { openaiUsageOf, STOP_TO_OPENAI } from "./response";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

export class AnthropicStreamToOpenai {
  usage: Usage | null = null;
  private readonly counts: AnthropicUsageCounts = {};
  private id = "chatcmpl-gateway";
  private readonly created = Math.floor(Date.now() / 1000);
  /** Anthropic block index → OpenAI tool call index. */
  private readonly tools = new Map<number, number>();
  private finished = false;

  constructor(
    private readonly model: string,
    /** The client asked for `stream_options.include_usage`. */
    private readonly includeUsage: boolean,
  ) {}

  push(events: readonly SseEvent[]): string {
    let out = "";
    for (const event of events) {
      if (this.finished || event.data === null) continue;
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (!isObject(data)) continue;
      switch (data.type) {
        case "message_start": {
          const message = isObject(data.message) ? data.message : {};
          if (typeof message.id === "string") this.id = `chatcmpl-${message.id.replace(/^msg_/, "")}`;
          // Only the input side counts yet (its `output_tokens: 1` is not the answer's): usage stays
          // null until message_delta, so a stream ending before it is charged what it delivered.
          mergeAnthropicUsage(this.counts, message.usage);
          out += this.chunk({ role: "assistant", content: "" }, null);
          break;
        }
        case "content_block_start": {
          const block = isObject(data.content_block) ? data.content_block : {};
          if (block.type === "tool_use" && typeof data.index === "number") {
            const index = this.tools.size;
            this.tools.set(data.index, index);
            out += this.chunk({ tool_calls: [{ index, id: String(block.id ?? ""), type: "function", function: { name: String(block.name ?? ""), arguments: "" } }] }, null);
          }
          break;
        }
        case "content_block_delta": {
          const delta = isObject(data.delta) ? data.delta : {};
          if (delta.type === "text_delta" && typeof delta.text === "string") out += this.chunk({ content: delta.text }, null);
          else if (delta.type === "thinking_delta" && typeof delta.thinking === "string") out += this.chunk({ reasoning_content: delta.thinking }, null);
          else if (delta.type === "input_json_delta" && typeof delta.partial_json === "string" && typeof data.index === "number") {
            const index = this.tools.get(data.index);
            if (index !== undefined) out += this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }, null);
          }
          break;
        }
        case "message_delta": {
          this.readUsage(data.usage);
          const delta = isObject(data.delta) ? data.delta : {};
          const stop = typeof delta.stop_reason === "string" ? delta.stop_reason : "end_turn";
          out += this.chunk({}, STOP_TO_OPENAI[stop] ?? "stop");
          break;
        }
        case "message_stop":
          out += this.finish();
          break;
        case "error": {
          this.finished = true;
          const error = isObject(data.error) ? data.error : {};
          out += `data: ${JSON.stringify({ error: { message: String(error.message ?? "The upstream stream failed."), type: "server_error", param: null, code: String(error.type ?? "upstream_error") } })}\n\n`;
          break;
        }
        default:
          break; // ping, content_block_stop: nothing to say
      }
    }
    return out;
  }

  /** At the end of the upstream stream: [DONE] unless message_stop already sent it. */
  end(): string {
    return this.finished ? "" : this.finish();
  }

  private readUsage(raw: unknown): void {
    mergeAnthropicUsage(this.counts, raw);
    this.usage = usageFromAnthropicCounts(this.counts);
  }

  private chunk(delta: Json, finish: string | null): string {
    return `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  }

  private finish(): string {
    this.finished = true;
    let out = "";
    if (this.includeUsage && this.usage) {
      out += `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage: openaiUsageOf(this.usage) })}\n\n`;
    }
    return `${out}data: [DONE]\n\n`;
  }
}
