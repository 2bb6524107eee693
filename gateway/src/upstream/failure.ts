/**
 * Classifies what went wrong with an upstream attempt: whether another target may be tried,
 * the reason label for metrics, and the error the client sees when nothing is left to try.
 */
import { GatewayError, type ErrorCode } from "../errors";

export type FailureReason = "connect" | "timeout" | "network" | "status_5xx" | "status_429" | "upstream_auth" | "invalid_response" | "deadline";

export interface AttemptFailure {
  reason: FailureReason;
  /** Upstream status for status failures. */
  status?: number;
  /** For 429: how long the target asked to be left alone. */
  retryAfterMs?: number | null;
  detail: string;
  /** The provider's id for the failed answer (x-upstream-request-id on the client's error). */
  upstreamRequestId?: string | null;
  /** upstream_auth: the request sent client headers (organization, project) that may be why. */
  clientScoped?: boolean;
  /** network: a reused connection reset or closed before any response byte (stale-connection.ts). */
  staleConnection?: boolean;
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT", "GW_ATTEMPT_TIMEOUT"]);

/** Maps a transport error (undici or Node) to a failure. */
export function classifyError(err: Error): AttemptFailure {
  const withCodes = err as Error & { code?: string; cause?: { code?: string } };
  const code = withCodes.code ?? withCodes.cause?.code ?? "";
  if (CONNECT_CODES.has(code)) return { reason: "connect", detail: code };
  if (TIMEOUT_CODES.has(code)) return { reason: "timeout", detail: code };
  return { reason: "network", detail: code || err.name };
}

/**
 * Whether a failure says the target itself is unhealthy and may count toward passive ejection:
 * it refused or dropped connections, or failed with a 5xx / a malformed answer. A timeout is not
 * proof (one client's long generation hits it), nor is an oversized answer (the client asked for it),
 * nor a 429 or an answer to a client error: one client must not be able to eject a target.
 */
export function countsTowardEjection(failure: AttemptFailure): boolean {
  switch (failure.reason) {
    case "connect":
    case "network":
    case "status_5xx":
      return true;
    case "invalid_response":
      return failure.detail !== "response too large" && (failure.status === undefined || failure.status < 400 || failure.status >= 500);
    default:
      return false;
  }
}

/** Statuses that another target may answer better. Everything else passes through unchanged. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The upstream refused the credentials the gateway sent for the target (its key, or an org or project). */
export function isUpstreamAuthStatus(status: number): boolean {
  return status === 401 || status === 403;
}

/** A GatewayError that also says how many upstream attempts were made (header and access log). */
export type ExhaustedError = GatewayError & { readonly attempts: number };

/** The client's error once every target and fallback failed (or the deadline passed). */
export function exhaustedError(last: AttemptFailure | null, attempts: number): ExhaustedError {
  const fail = (code: ErrorCode, message: string, headers: [string, string][] = []): ExhaustedError =>
    Object.assign(new GatewayError(code, message, [["x-gateway-attempts", String(attempts)], ...headers]), { attempts });
  if (last === null || attempts === 0) return fail("GW_ERR_NO_HEALTHY_TARGET", "No healthy upstream target is available for this model.");
  const tried = `after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  if (last.upstreamRequestId) return withUpstreamId(exhaustedError({ ...last, upstreamRequestId: null }, attempts), last.upstreamRequestId);
  switch (last.reason) {
    case "timeout":
    case "deadline":
      return fail("GW_ERR_UPSTREAM_TIMEOUT", `The upstream did not answer in time (${tried}).`);
    case "status_429": {
      const headers: [string, string][] = last.retryAfterMs != null ? [["retry-after", String(Math.max(1, Math.ceil(last.retryAfterMs / 1000)))]] : [];
      return fail("GW_ERR_UPSTREAM_RATE_LIMITED", `Every upstream target is rate limited (${tried}).`, headers);
    }
    case "upstream_auth":
      return last.clientScoped
        ? fail("GW_ERR_UPSTREAM_AUTH", `The upstream refused this request's OpenAI-Organization or OpenAI-Project with status ${last.status} (${tried}).`, NO_RETRY)
        : fail("GW_ERR_UPSTREAM_AUTH", `The upstream refused the gateway's credentials for this model with status ${last.status} (${tried}); the gateway's operator must fix its upstream key.`, NO_RETRY);
    case "invalid_response":
      return fail("GW_ERR_UPSTREAM_INVALID_RESPONSE", `The upstream answered with an invalid response (${tried}).`);
    case "status_5xx":
      return fail("GW_ERR_UPSTREAM_FAILED", `The upstream failed with status ${last.status} (${tried}).`);
    default:
      return fail("GW_ERR_UPSTREAM_FAILED", `The upstream could not be reached (${last.detail}, ${tried}).`);
  }
}

/** The SDKs would retry a 502; a refused key will still be refused in a second. */
const NO_RETRY: [string, string][] = [["x-should-retry", "false"]];

/** No target of the request's chain is available, and some are held out for refusing the gateway's credentials. */
export function misconfiguredError(model: string, status: number): ExhaustedError {
  return Object.assign(
    new GatewayError("GW_ERR_UPSTREAM_AUTH", `No upstream target of \`${model.slice(0, 200)}\` is available: the upstream refused the gateway's credentials (status ${status}); the gateway's operator must fix its upstream key.`, [["x-gateway-attempts", "0"], ...NO_RETRY]),
    { attempts: 0 },
  );
}

function withUpstreamId(error: ExhaustedError, upstreamRequestId: string): ExhaustedError {
  return Object.assign(new GatewayError(error.code, error.message, [...error.headers, ["x-upstream-request-id", upstreamRequestId]], error.param), { attempts: error.attempts });
}
