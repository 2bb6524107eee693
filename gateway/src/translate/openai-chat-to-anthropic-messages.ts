/**
 * Chat Completions clients on a native Anthropic target: the request becomes a Messages request
 * (max_tokens supplied when the client sent none), the answer a chat completion or chunk stream
 * (usage with cache reads and writes), Anthropic's errors OpenAI's error shape.
 */
import { anthropicErrorToOpenai } from "../dialects/anthropic/errors";
import { usageFromAnthropic } from "../dialects/anthropic/usage";
import { openaiRequestToAnthropic } from "./anthropic-openai/request";
import { anthropicResponseToOpenai } from "./anthropic-openai/response";
import { AnthropicStreamToOpenai } from "./anthropic-openai/stream-to-openai";
import { ConvertingTranslator, type Conversion } from "./converting-translator";
import { openaiStreamError } from "./openai-to-openai";
import type { TranslatorPair } from "./translator";

const OPENAI_CHAT_FROM_ANTHROPIC: Conversion = {
  operation: "messages",
  request: (client, upstreamModel) => openaiRequestToAnthropic(client.body, upstreamModel, client.stream),
  answer: (json, model) => {
    const usage = usageFromAnthropic(json.usage);
    const completion = anthropicResponseToOpenai(json, model, usage);
    return { body: completion, usage, delivered: completion.choices };
  },
  stream: (client, model) => {
    const options = client.body.stream_options as { include_usage?: unknown } | null | undefined;
    return new AnthropicStreamToOpenai(model, options?.include_usage === true);
  },
  deltaFields: null,
  errorBody: anthropicErrorToOpenai,
  streamError: openaiStreamError,
};

export const openaiChatToAnthropicMessages: TranslatorPair = {
  name: "openai-chat-to-anthropic-messages",
  create: (client) => new ConvertingTranslator(client, OPENAI_CHAT_FROM_ANTHROPIC),
};
