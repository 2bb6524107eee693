/**
 * A Responses request's `input` as a list of items, checked and normalised: a string becomes one
 * user message, a message's string content becomes one text part, and every item gets an id (the
 * client's, or one derived from the response id) so `GET /v1/responses/{id}/input_items` can list
 * them. Pure; a malformed item is a 400 naming its position (`input[2].content`).
 */
import { GatewayError } from "../../errors";
import { inputItemId } from "./ids";

export type Item = Record<string, unknown>;

const MESSAGE_ROLES: ReadonlySet<string> = new Set(["user", "assistant", "system", "developer"]);

/** Item types the gateway can carry over a Chat Completions target (and keep in its store). */
export const TRANSLATABLE_ITEM_TYPES: ReadonlySet<string> = new Set(["message", "function_call", "function_call_output", "reasoning", "item_reference"]);

export function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError("GW_ERR_INVALID_REQUEST", message, [], param);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function requireString(item: Item, field: string, param: string): string {
  const value = item[field];
  if (typeof value !== "string") throw invalid(`Missing required parameter: '${param}.${field}' (a string).`, `${param}.${field}`);
  return value;
}

function normaliseContent(content: unknown, role: string, param: string): Item[] {
  const textType = role === "assistant" ? "output_text" : "input_text";
  if (typeof content === "string") return [{ type: textType, text: content }];
  if (!Array.isArray(content)) throw invalid(`Invalid '${param}.content': expected a string or an array of content parts.`, `${param}.content`);
  return content.map((part, i) => {
    const at = `${param}.content[${i}]`;
    if (!isObject(part) || typeof part.type !== "string") throw invalid(`Invalid '${at}': expected a content part object with a 'type'.`, at);
    return part;
  });
}

/** One input item, normalised; `index` is its position in this request's `input`. */
function normaliseItem(raw: unknown, index: number, responseId: string): Item {
  const param = `input[${index}]`;
  if (!isObject(raw)) throw invalid(`Invalid '${param}': expected an object.`, param);
  const type = raw.type === undefined && typeof raw.role === "string" ? "message" : raw.type;
  if (typeof type !== "string") throw invalid(`Missing required parameter: '${param}.type'.`, `${param}.type`);
  const id = typeof raw.id === "string" && raw.id.length > 0 ? raw.id : null;
  switch (type) {
    case "message": {
      const role = raw.role;
      if (typeof role !== "string" || !MESSAGE_ROLES.has(role)) {
        throw invalid(`Invalid value for '${param}.role': expected one of user, assistant, system, developer.`, `${param}.role`);
      }
      return { ...raw, type, id: id ?? inputItemId("msg", responseId, index), role, content: normaliseContent(raw.content, role, param) };
    }
    case "function_call":
      requireString(raw, "call_id", param);
      requireString(raw, "name", param);
      requireString(raw, "arguments", param);
      return { ...raw, type, id: id ?? inputItemId("fc", responseId, index) };
    case "function_call_output":
      requireString(raw, "call_id", param);
      if (typeof raw.output !== "string" && !Array.isArray(raw.output)) throw invalid(`Invalid '${param}.output': expected a string or an array of content parts.`, `${param}.output`);
      return { ...raw, type, id: id ?? inputItemId("fco", responseId, index) };
    case "item_reference":
      requireString(raw, "id", param);
      return { ...raw, type };
    default:
      return { ...raw, type, ...(id === null ? {} : { id }) };
  }
}

/** The request's `input` as items (a string is one user message); `[]` when absent. */
export function normaliseInput(input: unknown, responseId: string): Item[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") return [{ type: "message", id: inputItemId("msg", responseId, 0), role: "user", content: [{ type: "input_text", text: input }] }];
  if (!Array.isArray(input)) throw invalid("Invalid 'input': expected a string or an array of input items.", "input");
  return input.map((item, i) => normaliseItem(item, i, responseId));
}

/** Ids of the `item_reference` items, to be resolved (from the store) before translation. */
export function referencedIds(items: readonly Item[]): string[] {
  return items.filter((item) => item.type === "item_reference").map((item) => item.id as string);
}
