/** Reads the client key from `Authorization: Bearer …` or `x-api-key` (as OpenAI and Anthropic clients send it). */
import type { IncomingHttpHeaders } from "node:http";

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

/** The presented key, or null when the request carries none. */
export function extractKey(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (typeof auth === "string" && auth.length > 0) {
    const match = BEARER.exec(auth);
    if (match) return match[1];
  }
  const apiKey = headers["x-api-key"];
  const value = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  return value && value.trim().length > 0 ? value.trim() : null;
}
