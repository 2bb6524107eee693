/**
 * Typed gateway errors, one stable code each, and the single place that maps them to an HTTP
 * status and each client dialect's error JSON: OpenAI's (`{"error":{"message","type","param","code"}}`)
 * and, on Anthropic routes, Anthropic's (see dialects/anthropic/errors.ts).
 */
import { ANTHROPIC_ERRORS, anthropicErrorJson } from "./dialects/anthropic/errors";

interface ErrorKind {
  status: number;
  type: string;
  /** OpenAI's `error.code` string, which SDKs and clients branch on. */
  openaiCode: string;
}

export const ERROR_KINDS = {
  GW_ERR_NOT_FOUND: { status: 404, type: "invalid_request_error", openaiCode: "not_found" },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, type: "invalid_request_error", openaiCode: "method_not_allowed" },
  GW_ERR_INVALID_JSON: { status: 400, type: "invalid_request_error", openaiCode: "invalid_json" },
  GW_ERR_INVALID_REQUEST: { status: 400, type: "invalid_request_error", openaiCode: "invalid_request" },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: "invalid_request_error", openaiCode: "unsupported_media_type" },
  GW_ERR_MODEL_REQUIRED: { status: 404, type: "invalid_request_error", openaiCode: "model_not_found" },
  GW_ERR_MODEL_NOT_FOUND: { status: 404, type: "invalid_request_error", openaiCode: "model_not_found" },
  GW_ERR_BODY_TOO_LARGE: { status: 413, type: "invalid_request_error", openaiCode: "request_too_large" },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, type: "invalid_request_error", openaiCode: "request_timeout" },
  GW_ERR_INVALID_API_KEY: { status: 401, type: "authentication_error", openaiCode: "invalid_api_key" },
  GW_ERR_MODEL_NOT_ALLOWED: { status: 403, type: "permission_error", openaiCode: "model_not_allowed" },
  GW_ERR_RATE_LIMITED: { status: 429, type: "rate_limit_error", openaiCode: "rate_limit_exceeded" },
  GW_ERR_BUDGET_EXCEEDED: { status: 429, type: "insufficient_quota", openaiCode: "insufficient_quota" },
  /** A budgeted key asked for a model with no price: its spend could not be bounded. */
  GW_ERR_MODEL_UNPRICED: { status: 403, type: "permission_error", openaiCode: "model_not_priced" },
  GW_ERR_UPSTREAM_RATE_LIMITED: { status: 429, type: "rate_limit_error", openaiCode: "upstream_rate_limited" },
  GW_ERR_NO_HEALTHY_TARGET: { status: 503, type: "server_error", openaiCode: "no_healthy_upstream" },
  GW_ERR_UPSTREAM_FAILED: { status: 502, type: "server_error", openaiCode: "upstream_error" },
  /** The upstream refused the gateway's own credentials for the target (401/403): the operator's to fix, not the client's. */
  GW_ERR_UPSTREAM_AUTH: { status: 502, type: "server_error", openaiCode: "upstream_auth_error" },
  GW_ERR_UPSTREAM_INVALID_RESPONSE: { status: 502, type: "server_error", openaiCode: "upstream_invalid_response" },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, type: "server_error", openaiCode: "upstream_timeout" },
  GW_ERR_STORE_UNAVAILABLE: { status: 503, type: "server_error", openaiCode: "store_unavailable" },
  GW_ERR_SHUTTING_DOWN: { status: 503, type: "server_error", openaiCode: "shutting_down" },
  /** The replica's budget for buffered request and response bodies is full (server.bufferedBytesLimit). */
  GW_ERR_SERVER_OVERLOADED: { status: 503, type: "server_error", openaiCode: "server_overloaded" },
  GW_ERR_INTERNAL: { status: 500, type: "server_error", openaiCode: "internal_error" },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_KINDS;

export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After or x-ratelimit-*. */
    readonly headers: readonly [string, string][] = [],
    /** The request field at fault, as OpenAI's `error.param`. */
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "GatewayError";
    this.status = ERROR_KINDS[code].status;
  }
}

/** The client dialects an error can be written in (a route's `dialect`). */
export type ErrorDialect = "openai" | "anthropic";

/** Serialises any error in the client's dialect (OpenAI's by default); unknown errors never leak their message. */
export function errorBody(err: unknown, dialect: ErrorDialect = "openai"): { status: number; body: string; headers: readonly [string, string][] } {
  const gw = err instanceof GatewayError ? err : new GatewayError("GW_ERR_INTERNAL", "The gateway hit an internal error.");
  if (dialect === "anthropic") {
    const anthropic = ANTHROPIC_ERRORS[gw.code];
    return { status: anthropic.status, body: anthropicErrorJson(anthropic.type, gw.message), headers: gw.headers };
  }
  const kind = ERROR_KINDS[gw.code];
  const body = JSON.stringify({ error: { message: gw.message, type: kind.type, param: gw.param, code: kind.openaiCode } });
  return { status: gw.status, body, headers: gw.headers };
}
