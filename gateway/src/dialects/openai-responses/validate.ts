/**
 * The checks the Responses API makes of its own sizing and bookkeeping fields, before anything
 * is reserved or forwarded (the route's `check`). Pure.
 */
import { invalid } from "./input-items";

/** `max_output_tokens` and `top_logprobs` as OpenAI checks them; `n` has no place here. */
export function checkResponsesParams(body: Record<string, unknown>): void {
  const max = body.max_output_tokens;
  if (max !== undefined && max !== null && (typeof max !== "number" || !Number.isSafeInteger(max) || max < 1)) {
    throw invalid("Invalid 'max_output_tokens': expected an integer >= 1.", "max_output_tokens");
  }
  const top = body.top_logprobs;
  if (top !== undefined && top !== null && (typeof top !== "number" || !Number.isInteger(top) || top < 0 || top > 20)) {
    throw invalid("Invalid 'top_logprobs': expected an integer between 0 and 20.", "top_logprobs");
  }
  if (body.store !== undefined && body.store !== null && typeof body.store !== "boolean") throw invalid("Invalid 'store': expected a boolean.", "store");
}
