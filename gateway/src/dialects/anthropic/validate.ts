/**
 * Checks an Anthropic Messages (or count_tokens) request the way Anthropic's API does before it
 * costs anything: required fields, roles, content block shapes, sampling ranges. A failure is a
 * 400 `invalid_request_error` naming the field (`messages.1.content.0.type: …`), as Anthropic's are.
 */
import { GatewayError } from "../../errors";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

function fail(field: string, problem: string): never {
  throw new GatewayError("GW_ERR_INVALID_REQUEST", `${field}: ${problem}`, [], field);
}

function checkBlocks(content: unknown[], where: string): void {
  content.forEach((block, i) => {
    if (!isObject(block) || typeof block.type !== "string") fail(`${where}.${i}`, "Input should be a content block object with a type");
    if (block.type === "text" && typeof block.text !== "string") fail(`${where}.${i}.text`, "Field required");
    if (block.type === "image" && !isObject(block.source)) fail(`${where}.${i}.source`, "Field required");
    if (block.type === "tool_use" && (typeof block.id !== "string" || typeof block.name !== "string")) fail(`${where}.${i}`, "tool_use blocks need an id and a name");
    if (block.type === "tool_result" && typeof block.tool_use_id !== "string") fail(`${where}.${i}.tool_use_id`, "Field required");
  });
}

function checkMessages(messages: unknown): void {
  if (messages === undefined) fail("messages", "Field required");
  if (!Array.isArray(messages)) fail("messages", "Input should be a valid list");
  if (messages.length === 0) fail("messages", "at least one message is required");
  messages.forEach((message, i) => {
    if (!isObject(message)) fail(`messages.${i}`, "Input should be an object");
    if (message.role !== "user" && message.role !== "assistant") fail(`messages.${i}.role`, "Input should be 'user' or 'assistant'");
    if (typeof message.content === "string") return;
    if (!Array.isArray(message.content)) fail(`messages.${i}.content`, "Input should be a valid string or list of content blocks");
    checkBlocks(message.content, `messages.${i}.content`);
  });
}

function checkCommon(body: Json): void {
  checkMessages(body.messages);
  if (body.system !== undefined && typeof body.system !== "string") {
    if (!Array.isArray(body.system)) fail("system", "Input should be a valid string or list of text blocks");
    checkBlocks(body.system, "system");
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) fail("tools", "Input should be a valid list");
    body.tools.forEach((tool, i) => {
      if (!isObject(tool) || typeof tool.name !== "string") fail(`tools.${i}.name`, "Field required");
    });
  }
  if (body.tool_choice !== undefined && !isObject(body.tool_choice)) fail("tool_choice", "Input should be an object");
  if (body.thinking !== undefined) {
    const thinking = body.thinking;
    if (!isObject(thinking) || typeof thinking.type !== "string") fail("thinking", "Input should be an object with a type");
    if (thinking.type === "enabled" && !(Number.isInteger(thinking.budget_tokens) && (thinking.budget_tokens as number) >= 1024)) fail("thinking.enabled.budget_tokens", "Input should be an integer of at least 1024");
  }
}

/** POST /v1/messages. */
export function checkMessagesRequest(body: Json): void {
  if (body.max_tokens === undefined || body.max_tokens === null) fail("max_tokens", "Field required");
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) fail("max_tokens", "Input should be an integer of at least 1");
  checkCommon(body);
  if (body.stream !== undefined && typeof body.stream !== "boolean") fail("stream", "Input should be a valid boolean");
  if (body.temperature !== undefined && !(typeof body.temperature === "number" && body.temperature >= 0 && body.temperature <= 1)) fail("temperature", "Input should be a number between 0 and 1");
  if (body.top_p !== undefined && !(typeof body.top_p === "number" && body.top_p >= 0 && body.top_p <= 1)) fail("top_p", "Input should be a number between 0 and 1");
  if (body.stop_sequences !== undefined && !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === "string"))) fail("stop_sequences", "Input should be a list of strings");
}

/** POST /v1/messages/count_tokens. */
export function checkCountTokensRequest(body: Json): void {
  checkCommon(body);
}
