/**
 * Anthropic Messages clients (Claude Code, the Anthropic SDKs) on an OpenAI-compatible target:
 * the request becomes a Chat Completions request (usage asked for on streams), the answer an
 * Anthropic message or event stream, upstream errors Anthropic's error shape.
 */
import { openaiErrorToAnthropic } from "../dialects/anthropic/errors";
import { ANTHROPIC_DELTA_FIELDS } from "../dialects/anthropic/delivered";
import { anthropicStreamError } from "../dialects/anthropic/stream-error";
import { anthropicRequestToOpenai } from "./anthropic-openai/request";
import { openaiResponseToAnthropic } from "./anthropic-openai/response";
import { OpenaiStreamToAnthropic } from "./anthropic-openai/stream-to-anthropic";
import { ConvertingTranslator, type Conversion } from "./converting-translator";
import type { TranslatorPair } from "./translator";

const ANTHROPIC_FROM_OPENAI_CHAT: Conversion = {
  operation: "chat.completions",
  request: (client, upstreamModel) => anthropicRequestToOpenai(client.body, upstreamModel, client.stream),
  answer: (json, model) => {
    const { message, usage } = openaiResponseToAnthropic(json, model);
    return { body: message, usage, delivered: message.content };
  },
  stream: (_client, model) => new OpenaiStreamToAnthropic(model),
  deltaFields: ANTHROPIC_DELTA_FIELDS,
  errorBody: openaiErrorToAnthropic,
  streamError: anthropicStreamError,
};

export const anthropicMessagesToOpenaiChat: TranslatorPair = {
  name: "anthropic-messages-to-openai-chat",
  create: (client) => new ConvertingTranslator(client, ANTHROPIC_FROM_OPENAI_CHAT),
};
