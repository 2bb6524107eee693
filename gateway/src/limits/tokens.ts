/**
 * Token estimates for reservation at admission: prompt tokens counted with a real BPE tokenizer
 * (o200k_base, the GPT-4o/4.1 encoding, from the vocabulary file gpt-tokenizer ships; other
 * providers' tokenizers differ a little, settlement corrects it) plus the completion budget the
 * request asks for. The vocabulary (~150 ms to load, ~4 MB) is loaded at start when a token
 * limit exists, else on first use.
 */
import { o200kAsciiPieceEnd, PieceSplitter } from "./bpe/ascii-split";
import { BpeCounter } from "./bpe/count";
import { loadTiktokenFile } from "./bpe/rank-table";
import { countingBody } from "../dialects/openai-responses/estimate";
import { countAnthropicPromptTokens } from "../dialects/anthropic/estimate";

let counter: BpeCounter | null = null;

/** Loads the tokenizer now (at startup when a token limit is configured). */
export function loadTokenizer(): BpeCounter {
  if (counter === null) {
    const table = loadTiktokenFile(require.resolve("gpt-tokenizer/data/o200k_base.tiktoken"));
    const { O200K_TOKEN_SPLIT_REGEX } = require("gpt-tokenizer/cjs/encodingParams/constants") as { O200K_TOKEN_SPLIT_REGEX: RegExp };
    const regex = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);
    counter = new BpeCounter(table, new PieceSplitter(regex, o200kAsciiPieceEnd));
  }
  return counter;
}

/**
 * Counts already seen, by text: a chat resends its whole history and system prompt on every
 * turn, so most message texts were counted before. Bounded by entries and by the characters the
 * texts hold (a remembered text keeps its string alive: 8,192 entries of 32 Ki characters would be
 * 256–512 MB, filled by any client sending long texts that differ). Cleared when either is full.
 */
const counted = new Map<string, number>();
let countedChars = 0;
const MAX_COUNTED = 8192;
const MAX_COUNTED_LENGTH = 32 * 1024;
/** 8 Mi characters: 8–16 MB of strings, the history of a few hundred long conversations. */
export const MAX_COUNTED_CHARS = 8 * 1024 * 1024;

function remember(text: string, tokens: number): void {
  if (counted.size >= MAX_COUNTED || countedChars + text.length > MAX_COUNTED_CHARS) {
    counted.clear();
    countedChars = 0;
  }
  counted.set(text, tokens);
  countedChars += text.length;
}

/** Characters of the texts whose counts are remembered now (tests check the bound). */
export function rememberedTextChars(): number {
  return countedChars;
}

/**
 * New text counted exactly per request; the rest is estimated from what was counted. Counting
 * costs 0.2–0.6 µs a byte, and a 10 MiB body (one text or 2,000 parts) would otherwise hold the
 * event loop for seconds. A reservation is an estimate either way: settlement uses real usage.
 */
const EXACT_CHARS_PER_REQUEST = 256 * 1024;

/**
 * One request's counting: remembered texts are free, new ones spend the exact budget. Counting is
 * synchronous and never nested, so one instance is reset per request (`begin()`) rather than one
 * allocated per request.
 */
class RequestCount {
  private budget = EXACT_CHARS_PER_REQUEST;
  private sampledChars = 0;
  private sampledTokens = 0;

  begin(): this {
    this.budget = EXACT_CHARS_PER_REQUEST;
    this.sampledChars = 0;
    this.sampledTokens = 0;
    return this;
  }

  text(text: string): number {
    if (text.length === 0) return 0;
    const known = counted.get(text);
    if (known !== undefined) return known;
    const bpe = counter ?? loadTokenizer();
    if (text.length <= this.budget) {
      const tokens = bpe.count(text);
      this.spend(text.length, tokens);
      if (text.length <= MAX_COUNTED_LENGTH) remember(text, tokens);
      return tokens;
    }
    if (this.budget > 0) {
      // Count what the budget allows of this text and scale by its length.
      const sample = this.budget;
      const tokens = bpe.count(text.slice(0, sample));
      this.spend(sample, tokens);
      return Math.ceil((tokens * text.length) / sample);
    }
    // Budget spent: the request's own tokens-per-character so far.
    return Math.ceil((this.sampledTokens * text.length) / this.sampledChars);
  }

  private spend(chars: number, tokens: number): void {
    this.budget -= chars;
    this.sampledChars += chars;
    this.sampledTokens += tokens;
  }
}

/** The one RequestCount, reset by each counting entry point. */
const requestCount = new RequestCount();

export function countTextTokens(text: string): number {
  return requestCount.begin().text(text);
}

/** The tokens of several texts of one request, within one request's exact-counting budget. */
export function countTextParts(parts: readonly string[]): number {
  const count = requestCount.begin();
  let tokens = 0;
  for (const part of parts) tokens += count.text(part);
  return tokens;
}

/** OpenAI's chat format: ~3 tokens of framing per message, 3 to prime the reply. */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
/** A low-detail image costs 85 tokens; a fair floor for an image part. */
const PER_IMAGE = 85;

/**
 * Prompt tokens of a chat request: messages, names, tool calls and tool definitions. Each text is
 * counted on its own (and remembered), in message order; the newline that would join two texts is
 * one token. Counted as the texts are met, with no list of them built.
 */
export function countChatTokens(body: Record<string, unknown>): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const count = requestCount.begin();
  let tokens = REPLY_PRIMING;
  let texts = 0;
  for (const message of messages) {
    if (message === null || typeof message !== "object") continue;
    const m = message as Record<string, unknown>;
    tokens += PER_MESSAGE;
    if (typeof m.role === "string") {
      tokens += count.text(m.role);
      texts++;
    }
    if (typeof m.name === "string") {
      tokens += count.text(m.name);
      texts++;
    }
    const content = m.content;
    if (typeof content === "string") {
      tokens += count.text(content);
      texts++;
    } else if (Array.isArray(content)) {
      for (const part of content) {
        if (part === null || typeof part !== "object") continue;
        const p = part as Record<string, unknown>;
        if (typeof p.text === "string") {
          tokens += count.text(p.text);
          texts++;
        } else if (p.type === "image_url" || p.type === "input_image") tokens += PER_IMAGE;
      }
    }
    if (m.tool_calls !== undefined) {
      tokens += count.text(JSON.stringify(m.tool_calls));
      texts++;
    }
  }
  if (body.tools !== undefined) {
    tokens += count.text(JSON.stringify(body.tools));
    texts++;
  }
  if (body.functions !== undefined) {
    tokens += count.text(JSON.stringify(body.functions));
    texts++;
  }
  return tokens + Math.max(0, texts - 1);
}

/** A prompt or embeddings input: string, strings, token ids, or arrays of token ids. */
export function countInputTokens(input: unknown): number {
  return inputTokens(input, requestCount.begin());
}

function inputTokens(input: unknown, count: RequestCount): number {
  if (typeof input === "string") return count.text(input);
  if (!Array.isArray(input)) return 0;
  if (input.every((x) => typeof x === "number")) return input.length;
  let total = 0;
  for (const item of input) total += inputTokens(item, count);
  return total;
}

function positiveInt(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : null;
}

/**
 * Completion tokens the request may produce: max_completion_tokens, max_tokens, or the default;
 * times the completions generated (`n`, or a completions request's `best_of`, which OpenAI
 * generates and bills in full though it returns only `n`).
 */
export function completionBudget(body: Record<string, unknown>, defaultMaxTokens: number): number {
  const max = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens) ?? defaultMaxTokens;
  return max * Math.max(positiveInt(body.n) ?? 1, positiveInt(body.best_of) ?? 1);
}

/**
 * The most completion tokens the upstream may produce, when the client set a limit it was sent:
 * a reported count past it is not believed. Null when the client set none: the gateway's default
 * (`limits.defaultMaxTokens`) sizes the reservation only, the upstream never saw it, and holding
 * the count to it billed a 5,000-token answer as 1,024.
 */
export function completionCeiling(route: string, body: Record<string, unknown>): number | null {
  switch (route) {
    case "chat.completions":
    case "completions":
    case "messages": {
      const max = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens);
      return max === null ? null : max * Math.max(positiveInt(body.n) ?? 1, positiveInt(body.best_of) ?? 1);
    }
    case "responses":
      return positiveInt(body.max_output_tokens);
    default:
      return null;
  }
}

/** Output tokens of one generated image (gpt-image-1, high quality, 1024×1024). */
export const IMAGE_OUTPUT_TOKENS = 4160;

/** Tokens to reserve for a request on `route`: prompt estimate plus completion budget. */
export function estimateRequestTokens(route: string, body: Record<string, unknown>, defaultMaxTokens: number): { prompt: number; completion: number } {
  switch (route) {
    case "chat.completions":
      return { prompt: countChatTokens(body), completion: completionBudget(body, defaultMaxTokens) };
    case "completions":
      return { prompt: countInputTokens(body.prompt), completion: completionBudget(body, defaultMaxTokens) };
    case "messages":
      return { prompt: countAnthropicPromptTokens(body), completion: completionBudget(body, defaultMaxTokens) };
    case "embeddings":
      return { prompt: countInputTokens(body.input), completion: 0 };
    case "responses":
      return { prompt: countChatTokens(countingBody(body)), completion: positiveInt(body.max_output_tokens) ?? defaultMaxTokens };
    case "images.generations":
      return { prompt: countInputTokens(body.prompt), completion: (positiveInt(body.n) ?? 1) * IMAGE_OUTPUT_TOKENS };
    default:
      return { prompt: 0, completion: 0 };
  }
}
