/**
 * Exact-match cache keys: SHA-256 of the scope, the model and the canonical JSON of the body
 * (object keys sorted at every depth, so field order does not matter). Fields that do not
 * change the answer are dropped: `stream` and `stream_options` (only non-streaming requests
 * are cached), `user`, `metadata` and `store` (bookkeeping, not generation inputs). Request
 * headers that change the answer (`anthropic-beta`: longer outputs, larger contexts, other tools;
 * `anthropic-version`) are part of the key, so a request with one is not answered from a request
 * without it.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** Client headers passed upstream that change what the model answers. */
const ANSWER_HEADERS = ["anthropic-beta", "anthropic-version"] as const;

/** Those headers' values, normalised (a beta list's order and spacing do not matter); "" when none is sent. */
export function answerHeadersVariant(headers: IncomingHttpHeaders): string {
  let variant = "";
  for (const name of ANSWER_HEADERS) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const values = (Array.isArray(raw) ? raw.join(",") : raw).split(",").map((v) => v.trim().toLowerCase()).filter((v) => v !== "");
    if (values.length > 0) variant += `${name}=${values.sort().join(",")};`;
  }
  return variant;
}

export const IGNORED_FIELDS: ReadonlySet<string> = new Set(["stream", "stream_options", "user", "metadata", "store"]);

/** JSON with sorted keys; undefined members are skipped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(obj[key])}`);
  }
  return `{${parts.join(",")}}`;
}

/** The normalised body: ignored fields removed at the top level. */
export function normaliseBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) if (!IGNORED_FIELDS.has(key)) out[key] = body[key];
  return out;
}

/**
 * `scope` is `key:<name>` for per-key caches or `shared`; the route keeps chat and legacy
 * completions apart.
 */
export function cacheKey(scope: string, route: string, model: string, body: Record<string, unknown>, headersVariant = ""): string {
  const hash = createHash("sha256");
  hash.update(scope).update("\n").update(route).update("\n").update(model).update("\n").update(canonicalJson(normaliseBody(body)));
  // Appended only when sent, so the keys of requests without such headers stay as they were.
  if (headersVariant !== "") hash.update("\n").update(headersVariant);
  return hash.digest("hex");
}
