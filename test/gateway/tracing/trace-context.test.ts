/** W3C trace context parsing and the pieces of tracing that need no sockets: upstream request ids, OTLP JSON. */
import { otlpTraceRequest, type SpanRecord } from "../../../gateway/src/tracing/span";
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent, traceContextFrom } from "../../../gateway/src/tracing/trace-context";
import { upstreamRequestIdOf } from "../../../gateway/src/upstream/upstream-request-id";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  it("reads a valid header, sampled or not", () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({ traceId: TRACE, parentSpanId: PARENT, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)).toEqual({ traceId: TRACE, parentSpanId: PARENT, sampled: false });
    // A later version may add fields after a dash; the first four are read as version 00's.
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-01-whatever`)).toEqual({ traceId: TRACE, parentSpanId: PARENT, sampled: true });
  });

  it.each([
    ["missing", undefined],
    ["repeated", [`00-${TRACE}-${PARENT}-01`, `00-${TRACE}-${PARENT}-01`]],
    ["version ff", `ff-${TRACE}-${PARENT}-01`],
    ["version 00 with a tail", `00-${TRACE}-${PARENT}-01-x`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${PARENT}-01`],
    ["an all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["a short trace id", `00-${TRACE.slice(1)}-${PARENT}-01`],
    ["bad separators", `00_${TRACE}_${PARENT}_01`],
    ["not hex", `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
  ])("refuses %s", (_what, value) => {
    expect(parseTraceparent(value as string | string[] | undefined)).toBeNull();
  });
});

describe("traceContextFrom", () => {
  it("keeps the caller's trace and its sane tracestate", () => {
    expect(traceContextFrom(`00-${TRACE}-${PARENT}-01`, "vendor=abc,other=1", () => false)).toEqual({ traceId: TRACE, parentSpanId: PARENT, sampled: true, tracestate: "vendor=abc,other=1" });
    expect(traceContextFrom(`00-${TRACE}-${PARENT}-01`, "x".repeat(513), () => true).tracestate).toBeNull();
    expect(traceContextFrom(`00-${TRACE}-${PARENT}-01`, "v=\u0001", () => true).tracestate).toBeNull();
  });

  it("starts a trace when there is none (dropping a tracestate that belongs to no trace), sampled as told", () => {
    const fresh = traceContextFrom("garbage", "vendor=abc", () => true);
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect([fresh.parentSpanId, fresh.sampled, fresh.tracestate]).toEqual([null, true, null]);
    expect(traceContextFrom(undefined, undefined, () => false).sampled).toBe(false);
  });

  it("makes distinct, valid ids", () => {
    const ids = new Set(Array.from({ length: 2_000 }, () => newSpanId()));
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(newTraceId()).not.toBe(newTraceId());
    const header = formatTraceparent(TRACE, "a".repeat(16), true);
    expect(header).toBe(`00-${TRACE}-${"a".repeat(16)}-01`);
    expect(parseTraceparent(header)).not.toBeNull();
  });
});

describe("upstreamRequestIdOf", () => {
  it("reads each provider's header, in order, and only sane values", () => {
    expect(upstreamRequestIdOf({ "x-request-id": "req_123" })).toBe("req_123");
    expect(upstreamRequestIdOf({ "request-id": "req_011CV" })).toBe("req_011CV");
    expect(upstreamRequestIdOf({ "apim-request-id": "6b5c0a2e-1f" })).toBe("6b5c0a2e-1f");
    expect(upstreamRequestIdOf({ "x-request-id": "a", "request-id": "b" })).toBe("a");
    expect(upstreamRequestIdOf({ "x-request-id": "has space" })).toBeNull();
    expect(upstreamRequestIdOf({ "x-request-id": "x".repeat(201) })).toBeNull();
    expect(upstreamRequestIdOf({ "x-request-id": ["a", "b"] })).toBeNull();
    expect(upstreamRequestIdOf({})).toBeNull();
  });
});

describe("otlpTraceRequest", () => {
  it("encodes spans as OTLP/HTTP JSON: hex ids, nanosecond strings, typed attributes, error status", () => {
    const span: SpanRecord = { traceId: TRACE, spanId: PARENT, parentSpanId: null, name: "upstream attempt", kind: 3, startUs: 1_700_000_000_000_001n, endUs: 1_700_000_000_000_500n, attributes: { "aigw.target": "a", "aigw.attempt": 2, ratio: 0.5, ok: false }, error: "status 502" };
    const body = JSON.parse(otlpTraceRequest("gw", [span]));
    expect(body.resourceSpans[0].resource.attributes).toEqual([{ key: "service.name", value: { stringValue: "gw" } }]);
    const encoded = body.resourceSpans[0].scopeSpans[0].spans[0];
    expect(encoded).toEqual({
      traceId: TRACE,
      spanId: PARENT,
      name: "upstream attempt",
      kind: 3,
      startTimeUnixNano: "1700000000000001000",
      endTimeUnixNano: "1700000000000500000",
      attributes: [
        { key: "aigw.target", value: { stringValue: "a" } },
        { key: "aigw.attempt", value: { intValue: "2" } },
        { key: "ratio", value: { doubleValue: 0.5 } },
        { key: "ok", value: { boolValue: false } },
      ],
      status: { code: 2, message: "status 502" },
    });
  });
});
