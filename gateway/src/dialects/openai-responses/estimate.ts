/**
 * A Responses request in the shape the prompt counter reads (Chat messages and tools), for the
 * token and budget reservations made at admission. Lenient: anything it does not know is
 * counted as its JSON, never refused (refusing is the translator's job, and a native target may
 * accept what the translator cannot carry). Pure.
 */
import { isObject } from "./input-items";

function messageOf(item: Record<string, unknown>): Record<string, unknown> {
  switch (item.type ?? (typeof item.role === "string" ? "message" : undefined)) {
    case "message":
      return { role: item.role, content: item.content };
    case "function_call":
      return { role: "assistant", content: null, tool_calls: [{ function: { name: item.name, arguments: item.arguments } }] };
    case "function_call_output":
      return { role: "tool", content: typeof item.output === "string" ? item.output : JSON.stringify(item.output) };
    case "item_reference":
      return { role: "assistant", content: "" };
    default:
      return { role: "user", content: JSON.stringify(item) };
  }
}

/** `{messages, tools}` for limits/tokens.ts's countChatTokens. */
export function countingBody(body: Record<string, unknown>): Record<string, unknown> {
  const messages: Record<string, unknown>[] = [];
  if (typeof body.instructions === "string") messages.push({ role: "system", content: body.instructions });
  if (typeof body.input === "string") messages.push({ role: "user", content: body.input });
  else if (Array.isArray(body.input)) for (const item of body.input) if (isObject(item)) messages.push(messageOf(item));
  return { messages, ...(body.tools !== undefined ? { tools: body.tools } : {}) };
}
