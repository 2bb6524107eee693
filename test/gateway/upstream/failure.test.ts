/** Failure classification: what may be retried elsewhere, and what the client sees when all failed. */
import { errors as undiciErrors } from "undici";
import { classifyError, exhaustedError, isRetryableStatus } from "../../../gateway/src/upstream/failure";
import { errorBody } from "../../../gateway/src/errors";

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe("classifyError", () => {
  it("recognises connect failures, from the error or its cause", () => {
    expect(classifyError(withCode("ECONNREFUSED")).reason).toBe("connect");
    expect(classifyError(Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } })).reason).toBe("connect");
    expect(classifyError(new undiciErrors.ConnectTimeoutError()).reason).toBe("connect");
  });

  it("recognises timeouts", () => {
    expect(classifyError(new undiciErrors.HeadersTimeoutError()).reason).toBe("timeout");
    expect(classifyError(new undiciErrors.BodyTimeoutError()).reason).toBe("timeout");
    expect(classifyError(withCode("ETIMEDOUT")).reason).toBe("timeout");
  });

  it("calls everything else a network failure, with its code or name as detail", () => {
    expect(classifyError(new undiciErrors.SocketError("other side closed"))).toEqual({ reason: "network", detail: "UND_ERR_SOCKET" });
    expect(classifyError(withCode("ECONNRESET"))).toEqual({ reason: "network", detail: "ECONNRESET" });
    expect(classifyError(new RangeError("x"))).toEqual({ reason: "network", detail: "RangeError" });
  });
});

describe("isRetryableStatus", () => {
  it("retries 429 and 5xx only", () => {
    expect([429, 500, 502, 503, 504, 529].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 413, 422].some(isRetryableStatus)).toBe(false);
  });
});

describe("exhaustedError", () => {
  const shape = (err: Error) => {
    const { status, body, headers } = errorBody(err);
    return { status, code: JSON.parse(body).error.code as string, headers: Object.fromEntries(headers) };
  };

  it("is 503 no_healthy_upstream when nothing could be tried", () => {
    expect(shape(exhaustedError(null, 0))).toMatchObject({ status: 503, code: "no_healthy_upstream" });
  });

  it("is 504 after a timeout or the deadline", () => {
    expect(shape(exhaustedError({ reason: "timeout", detail: "UND_ERR_HEADERS_TIMEOUT" }, 2))).toMatchObject({ status: 504, code: "upstream_timeout" });
    expect(shape(exhaustedError({ reason: "deadline", detail: "deadline passed" }, 3))).toMatchObject({ status: 504, code: "upstream_timeout" });
  });

  it("is 429 with Retry-After (whole seconds, at least 1) when every target was rate limited", () => {
    expect(shape(exhaustedError({ reason: "status_429", status: 429, retryAfterMs: 2_500, detail: "429" }, 2))).toMatchObject({ status: 429, code: "upstream_rate_limited", headers: { "retry-after": "3" } });
    expect(shape(exhaustedError({ reason: "status_429", status: 429, retryAfterMs: 10, detail: "429" }, 1)).headers["retry-after"]).toBe("1");
    expect(shape(exhaustedError({ reason: "status_429", status: 429, retryAfterMs: null, detail: "429" }, 1)).headers["retry-after"]).toBeUndefined();
  });

  it("is 502 for 5xx, garbage and connection failures", () => {
    expect(shape(exhaustedError({ reason: "status_5xx", status: 503, detail: "503" }, 3))).toMatchObject({ status: 502, code: "upstream_error" });
    expect(shape(exhaustedError({ reason: "invalid_response", detail: "not a JSON object" }, 1))).toMatchObject({ status: 502, code: "upstream_invalid_response" });
    expect(shape(exhaustedError({ reason: "connect", detail: "ECONNREFUSED" }, 2))).toMatchObject({ status: 502, code: "upstream_error" });
  });

  it("says how many attempts were made", () => {
    expect(exhaustedError({ reason: "status_5xx", status: 500, detail: "500" }, 1).message).toContain("after 1 attempt)");
    const err = exhaustedError({ reason: "connect", detail: "ECONNREFUSED" }, 3);
    expect(err.message).toContain("ECONNREFUSED, after 3 attempts");
    expect(err.attempts).toBe(3);
    expect(shape(err).headers["x-gateway-attempts"]).toBe("3");
    expect(shape(exhaustedError(null, 0)).headers["x-gateway-attempts"]).toBe("0");
  });
});
