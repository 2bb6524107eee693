/** Tool definitions and tool choice between Anthropic's and OpenAI's chat shapes. */
import { GatewayError } from "../../errors";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);

/** Anthropic `tools` as OpenAI function tools; server tools (web search, bash…) have no OpenAI equivalent. */
export function toolsToOpenai(tools: unknown): Json[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  return tools.map((tool, i) => {
    if (!isObject(tool) || typeof tool.name !== "string") throw new GatewayError("GW_ERR_INVALID_REQUEST", `tools.${i}: a tool needs a name.`, [], `tools.${i}`);
    if (tool.type !== undefined && tool.type !== "custom" && tool.input_schema === undefined) {
      throw new GatewayError("GW_ERR_INVALID_REQUEST", `tools.${i}: the server tool '${String(tool.type)}' is only available on Anthropic targets.`, [], `tools.${i}`);
    }
    const fn: Json = { name: tool.name, parameters: isObject(tool.input_schema) ? tool.input_schema : { type: "object", properties: {} } };
    if (typeof tool.description === "string") fn.description = tool.description;
    return { type: "function", function: fn };
  });
}

/** Anthropic `tool_choice` as OpenAI's `tool_choice` and `parallel_tool_calls`. */
export function toolChoiceToOpenai(choice: unknown): { tool_choice?: unknown; parallel_tool_calls?: boolean } {
  if (!isObject(choice)) return {};
  const out: { tool_choice?: unknown; parallel_tool_calls?: boolean } = {};
  if (choice.type === "auto") out.tool_choice = "auto";
  else if (choice.type === "any") out.tool_choice = "required";
  else if (choice.type === "none") out.tool_choice = "none";
  else if (choice.type === "tool" && typeof choice.name === "string") out.tool_choice = { type: "function", function: { name: choice.name } };
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  return out;
}

/** OpenAI function tools as Anthropic `tools`. */
export function toolsToAnthropic(tools: unknown): Json[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  return tools.map((tool, i) => {
    const fn = isObject(tool) && isObject(tool.function) ? tool.function : null;
    if (fn === null || typeof fn.name !== "string") throw new GatewayError("GW_ERR_INVALID_REQUEST", `tools[${i}]: only function tools with a name can be sent to this model.`, [], `tools[${i}]`);
    const out: Json = { name: fn.name, input_schema: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} } };
    if (typeof fn.description === "string") out.description = fn.description;
    return out;
  });
}

/** OpenAI `tool_choice` and `parallel_tool_calls` as Anthropic's `tool_choice`. */
export function toolChoiceToAnthropic(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (choice === "none") out = { type: "none" };
  else if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === "string") out = { type: "tool", name: choice.function.name };
  if (parallel === false) {
    out ??= { type: "auto" };
    if (out.type !== "none") out.disable_parallel_tool_use = true;
  }
  return out;
}

/** A tool call's `arguments` string as Anthropic's `input` object ({} when the model wrote something else). */
export function parseArguments(args: unknown): Json {
  if (typeof args !== "string" || args.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
