/**
 * Redaction by field name at any depth, for the general logger: a secret nested anywhere
 * (`config.models[0].targets[0].apiKey`, `req.headers.authorization`, `auth.adminKey`) prints
 * as "[redacted]". pino's own `redact` paths are fixed-depth, so one missed level leaked a key.
 * Names compare case-insensitively with `-` and `_` ignored (`x-api-key`, `api_key`, `apiKey`).
 */

export const REDACTED = "[redacted]";

const SECRET_NAMES = new Set([
  "apikey",
  "xapikey",
  "authorization",
  "proxyauthorization",
  "adminkey",
  "key",
  "password",
  "passwd",
  "secret",
  "clientsecret",
  "token",
  "accesstoken",
  "refreshtoken",
  "cookie",
  "setcookie",
]);

/** Deeper than this, a value is replaced rather than walked (log lines stay bounded). */
const MAX_DEPTH = 32;

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name.replace(/[-_]/g, "").toLowerCase());
}

/** A copy of `value` with every secret-named field censored; the input is not modified. */
export function redactSecrets(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen));
    if (value instanceof Map) return walk(Object.fromEntries(value), depth, seen);
    const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(source)) {
      out[name] = isSecretName(name) ? REDACTED : walk(source[name], depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** What pino's err serializer would print: type, message, stack and own fields (cause included). */
function errorFields(err: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: err.constructor?.name ?? "Error", message: err.message, stack: err.stack };
  for (const name of Object.keys(err)) fields[name] = (err as unknown as Record<string, unknown>)[name];
  if (err.cause !== undefined) fields.cause = err.cause;
  return fields;
}
