/** The single mapping from gateway errors to HTTP status and OpenAI error JSON. */
import { ERROR_KINDS, GatewayError, errorBody } from "../../gateway/src/errors";

describe("errorBody", () => {
  it("serialises a GatewayError in OpenAI's shape with its status, param and headers", () => {
    const err = new GatewayError("GW_ERR_MODEL_NOT_FOUND", "The model `x` does not exist.", [["x-extra", "1"]], "model");
    const { status, body, headers } = errorBody(err);
    expect(status).toBe(404);
    expect(JSON.parse(body)).toEqual({ error: { message: "The model `x` does not exist.", type: "invalid_request_error", param: "model", code: "model_not_found" } });
    expect(headers).toEqual([["x-extra", "1"]]);
  });

  it("never leaks the message of an unexpected error", () => {
    const { status, body } = errorBody(new Error("connect to redis://:hunter2@10.0.0.1 failed"));
    expect(status).toBe(500);
    expect(body).not.toContain("hunter2");
    expect(JSON.parse(body).error).toMatchObject({ type: "server_error", code: "internal_error" });
  });

  it("maps the issue's statuses: 400, 404, 413, 503, 504", () => {
    expect(ERROR_KINDS.GW_ERR_INVALID_JSON.status).toBe(400);
    expect(ERROR_KINDS.GW_ERR_MODEL_REQUIRED.status).toBe(404);
    expect(ERROR_KINDS.GW_ERR_MODEL_NOT_FOUND.status).toBe(404);
    expect(ERROR_KINDS.GW_ERR_BODY_TOO_LARGE.status).toBe(413);
    expect(ERROR_KINDS.GW_ERR_NO_HEALTHY_TARGET.status).toBe(503);
    expect(ERROR_KINDS.GW_ERR_UPSTREAM_TIMEOUT.status).toBe(504);
  });

  it("gives every code a status matching its OpenAI error type", () => {
    for (const kind of Object.values(ERROR_KINDS)) {
      if (kind.type === "server_error") expect(kind.status).toBeGreaterThanOrEqual(500);
      else expect(kind.status).toBeLessThan(500);
    }
  });
});
