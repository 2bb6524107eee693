/**
 * The request fields that size a generation (`max_tokens`, `max_completion_tokens`, `n`) must be
 * whole numbers of at least 1, as OpenAI requires: a fractional, string or negative value would
 * otherwise reserve no completion tokens here and be read some other way upstream.
 * `null` means "not set", as in OpenAI's API.
 */
import { GatewayError } from "../errors";

const SIZING_FIELDS = ["max_tokens", "max_completion_tokens", "n"] as const;

function describe(value: unknown): string {
  if (typeof value === "number") return "a decimal number";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Throws a 400 `invalid_request` naming the first bad field. */
export function checkGenerationParams(body: Record<string, unknown>): void {
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
