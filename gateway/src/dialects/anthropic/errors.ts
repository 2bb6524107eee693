/**
 * Anthropic's error shape, `{"type":"error","error":{"type","message"}}`, with the statuses
 * Anthropic uses: the gateway's own errors on Anthropic routes, an OpenAI-compatible upstream's
 * error bodies turned into it, and Anthropic error bodies turned into OpenAI's for chat clients.
 */
import type { ErrorCode } from "../../errors";

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

/**
 * Each gateway error as Anthropic would say it. Statuses follow Anthropic's table: 529 when the
 * gateway has nothing to serve with (the SDKs back off and retry), 504 `timeout_error`, 402
 * `billing_error` for a spent budget (retrying cannot help), other upstream failures `api_error`.
 */
export const ANTHROPIC_ERRORS: Readonly<Record<ErrorCode, { status: number; type: AnthropicErrorType }>> = {
  GW_ERR_NOT_FOUND: { status: 404, type: "not_found_error" },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, type: "invalid_request_error" },
  GW_ERR_INVALID_JSON: { status: 400, type: "invalid_request_error" },
  GW_ERR_INVALID_REQUEST: { status: 400, type: "invalid_request_error" },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: "invalid_request_error" },
  GW_ERR_MODEL_REQUIRED: { status: 400, type: "invalid_request_error" },
  GW_ERR_MODEL_NOT_FOUND: { status: 404, type: "not_found_error" },
  GW_ERR_BODY_TOO_LARGE: { status: 413, type: "request_too_large" },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, type: "timeout_error" },
  GW_ERR_INVALID_API_KEY: { status: 401, type: "authentication_error" },
  GW_ERR_MODEL_NOT_ALLOWED: { status: 403, type: "permission_error" },
  GW_ERR_RATE_LIMITED: { status: 429, type: "rate_limit_error" },
  GW_ERR_BUDGET_EXCEEDED: { status: 402, type: "billing_error" },
  GW_ERR_MODEL_UNPRICED: { status: 403, type: "permission_error" },
  GW_ERR_UPSTREAM_RATE_LIMITED: { status: 429, type: "rate_limit_error" },
  GW_ERR_NO_HEALTHY_TARGET: { status: 529, type: "overloaded_error" },
  GW_ERR_UPSTREAM_FAILED: { status: 502, type: "api_error" },
  /** The upstream refused the gateway's own key: never the client's authentication_error. */
  GW_ERR_UPSTREAM_AUTH: { status: 502, type: "api_error" },
  GW_ERR_UPSTREAM_INVALID_RESPONSE: { status: 502, type: "api_error" },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, type: "timeout_error" },
  GW_ERR_STORE_UNAVAILABLE: { status: 503, type: "api_error" },
  GW_ERR_SHUTTING_DOWN: { status: 529, type: "overloaded_error" },
  GW_ERR_SERVER_OVERLOADED: { status: 529, type: "overloaded_error" },
  GW_ERR_INTERNAL: { status: 500, type: "api_error" },
};

export function anthropicErrorJson(type: string, message: string): string {
  return JSON.stringify({ type: "error", error: { type, message } });
}

/** The Anthropic error type for an upstream status, when the body did not say. */
export function anthropicTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

function parseObject(body: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function messageOf(error: unknown, fallback: string): string {
  if (typeof error === "string") return error;
  if (error !== null && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") return (error as { message: string }).message;
  return fallback;
}

/** An OpenAI-style error body (`{"error":{"message",…}}`) as Anthropic's, keeping the upstream's message. */
export function openaiErrorToAnthropic(status: number, body: Buffer): Buffer {
  const parsed = parseObject(body);
  const message = messageOf(parsed?.error ?? parsed, `The upstream answered with status ${status}.`);
  return Buffer.from(anthropicErrorJson(anthropicTypeForStatus(status), message));
}

/** OpenAI's `error.type` for each Anthropic error type. */
const OPENAI_TYPES: Readonly<Record<string, string>> = {
  invalid_request_error: "invalid_request_error",
  authentication_error: "authentication_error",
  billing_error: "insufficient_quota",
  permission_error: "permission_error",
  not_found_error: "invalid_request_error",
  request_too_large: "invalid_request_error",
  rate_limit_error: "rate_limit_error",
  timeout_error: "server_error",
  overloaded_error: "server_error",
  api_error: "server_error",
};

/** An Anthropic error body as OpenAI's `{"error":{"message","type","param","code"}}`. */
export function anthropicErrorToOpenai(status: number, body: Buffer): Buffer {
  const parsed = parseObject(body);
  const error = parsed?.error as { type?: unknown; message?: unknown } | undefined;
  const type = typeof error?.type === "string" ? error.type : anthropicTypeForStatus(status);
  const message = messageOf(error ?? parsed, `The upstream answered with status ${status}.`);
  return Buffer.from(JSON.stringify({ error: { message, type: OPENAI_TYPES[type] ?? "invalid_request_error", param: null, code: type } }));
}
