/**
 * The gateway's own count of what a non-streaming answer delivered, for when the upstream sent
 * no usable usage: the generated text of the choices counted with the tokenizer (bounded per
 * request like prompt counting), or for images a fixed token count per image delivered.
 */
import { countTextTokens, IMAGE_OUTPUT_TOKENS } from "../limits/tokens";

function choiceTexts(json: Record<string, unknown>, out: string[]): void {
  const choices = Array.isArray(json.choices) ? json.choices : [];
  for (const choice of choices) {
    if (choice === null || typeof choice !== "object") continue;
    const c = choice as Record<string, unknown>;
    if (typeof c.text === "string") out.push(c.text);
    const message = c.message as Record<string, unknown> | null | undefined;
    if (message === null || typeof message !== "object") continue;
    if (typeof message.content === "string") out.push(message.content);
    if (typeof message.refusal === "string") out.push(message.refusal);
    if (Array.isArray(message.tool_calls)) out.push(JSON.stringify(message.tool_calls));
  }
}

/** Completion tokens a buffered 2xx answer on `route` delivered. */
export function deliveredCompletionTokens(route: string, json: Record<string, unknown>): number {
  if (route === "images.generations") return (Array.isArray(json.data) ? json.data.length : 1) * IMAGE_OUTPUT_TOKENS;
  if (route === "embeddings") return 0;
  const texts: string[] = [];
  choiceTexts(json, texts);
  return countTextTokens(texts.join("\n"));
}
