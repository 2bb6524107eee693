/**
 * The request fields that size a generation (`max_tokens`, `max_completion_tokens`, `n`) must be
 * whole numbers of at least 1, as OpenAI requires: a fractional, string or negative value would
 * otherwise reserve no completion tokens here and be read some other way upstream.
 * `null` means "not set", as in OpenAI's API. `stream` decides how the answer is read, so it must be
 * a boolean: `"true"` read as not streaming while a lax upstream (pydantic coerces it) streams made
 * the answer look malformed, and each such failure counted toward ejecting a healthy target.
 * `best_of` (completions) generates and bills that many completions: it sizes the reservation too.
 */
import { GatewayError } from "../errors";

const SIZING_FIELDS = ["max_tokens", "max_completion_tokens", "n", "best_of"] as const;

function describe(value: unknown): string {
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal number";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Throws a 400 `invalid_request` naming the first bad field. */
export function checkGenerationParams(body: Record<string, unknown>): void {
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") {
    throw new GatewayError("GW_ERR_INVALID_REQUEST", `Invalid type for 'stream': expected a boolean, but got ${describe(stream)} instead.`, [], "stream");
  }
  const options = body.stream_options;
  if (options !== undefined && options !== null && (typeof options !== "object" || Array.isArray(options))) {
    throw new GatewayError("GW_ERR_INVALID_REQUEST", `Invalid type for 'stream_options': expected an object, but got ${describe(options)} instead.`, [], "stream_options");
  }
  for (const field of SIZING_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value === "number" && Number.isInteger(value)) {
      if (value < 1) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Invalid '${field}': integer below minimum value. Expected a value >= 1, but got ${value} instead.`, [], field);
      if (!Number.isSafeInteger(value)) throw new GatewayError("GW_ERR_INVALID_REQUEST", `Invalid '${field}': integer above maximum value. Expected a value <= ${Number.MAX_SAFE_INTEGER}.`, [], field);
      continue;
    }
    throw new GatewayError("GW_ERR_INVALID_REQUEST", `Invalid type for '${field}': expected an integer, but got ${describe(value)} instead.`, [], field);
  }
}
