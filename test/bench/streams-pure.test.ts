/** The stream benchmark's pure parts: reading answers off raw sockets, classifying ends, the file limit, gauges, ratios. */
import { AnswerScanner, classify, emptyCounts, lostOf } from "../../bench/lib/stream-outcomes";
import { gaugeValue } from "../../bench/lib/metrics-peaks";
import { percentileOf } from "../../bench/stream-client";
import { renderStreamsMarkdown, streamRatio, type StreamCaseResult } from "../../bench/lib/streams-report";
import { connectionCeilingFor, FD_RESERVE, inFlightCeilingFor, parseOpenFileLimit } from "../../gateway/src/http/fd-limit";

const SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

function scan(...chunks: string[]): AnswerScanner {
  const scanner = new AnswerScanner();
  for (const chunk of chunks) scanner.push(Buffer.from(chunk, "latin1"));
  return scanner;
}

describe("AnswerScanner", () => {
  it("reads the status and counts events and [DONE] across chunked framing", () => {
    const s = scan(SSE_HEAD, "1a\r\ndata: {\"a\":1}\n\n\r\n", "1a\r\ndata: {\"a\":2}\n\n\r\n", "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
    expect(s.status).toBe(200);
    expect(s.events).toBe(3);
    expect(s.done).toBe(true);
  });

  it("finds markers split across reads, byte by byte, counting each once", () => {
    const whole = `${SSE_HEAD}data: one\n\ndata: two\n\ndata: [DONE]\n\n`;
    const s = scan(...whole.split(""));
    expect(s.status).toBe(200);
    expect(s.events).toBe(3);
    expect(s.done).toBe(true);
  });

  it("sees Retry-After and keeps the start of a refusal's body", () => {
    const s = scan("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\ncontent-type: application/json\r\n\r\n", '{"error":{"code":"server_overloaded"}}');
    expect(s.status).toBe(503);
    expect(s.retryAfter).toBe(true);
    expect(s.bodySample).toContain("server_overloaded");
  });
});

describe("classify", () => {
  const done = () => scan(SSE_HEAD, "data: [DONE]\n\n");
  it("a 200 with [DONE] is complete however the socket ended", () => {
    expect(classify(done(), { kind: "end" })).toBe("complete");
    expect(classify(done(), { kind: "error", code: "ECONNRESET" })).toBe("complete");
  });
  it("a started stream that ends early is cut; one that never ends is a timeout", () => {
    expect(classify(scan(SSE_HEAD, "data: x\n\n"), { kind: "end" })).toBe("cut");
    expect(classify(scan(SSE_HEAD, "data: x\n\n"), { kind: "timeout" })).toBe("timeout");
  });
  it("no answer byte: a reset on error, no-response on a plain close", () => {
    expect(classify(new AnswerScanner(), { kind: "error", code: "ECONNRESET" })).toBe("reset");
    expect(classify(new AnswerScanner(), { kind: "end" })).toBe("no-response");
    expect(classify(new AnswerScanner(), { kind: "connect-failed" })).toBe("connect-failed");
  });
  it("a 503 server_overloaded with Retry-After is shed; other answers are refusals, not losses", () => {
    expect(classify(scan("HTTP/1.1 503 x\r\nretry-after: 2\r\n\r\n", '{"error":{"code":"server_overloaded"}}'), { kind: "end" })).toBe("shed");
    expect(classify(scan("HTTP/1.1 503 x\r\n\r\n", '{"error":{"code":"server_overloaded"}}'), { kind: "end" })).toBe("refused");
    expect(classify(scan("HTTP/1.1 408 x\r\n\r\n", "{}"), { kind: "end" })).toBe("refused");
  });
  it("counts losses only", () => {
    const counts = emptyCounts();
    counts.complete = 5;
    counts.shed = 2;
    counts.reset = 1;
    counts.cut = 1;
    counts.timeout = 1;
    expect(lostOf(counts)).toBe(3);
  });
});

describe("open-file limit", () => {
  const limits = "Limit                     Soft Limit           Hard Limit           Units\nMax cpu time              unlimited            unlimited            seconds\nMax open files            20000                20000                files\n";
  it("parses the soft limit, and nothing for unlimited or absent", () => {
    expect(parseOpenFileLimit(limits)).toBe(20_000);
    expect(parseOpenFileLimit(limits.replace("20000                20000", "unlimited            unlimited"))).toBeNull();
    expect(parseOpenFileLimit("")).toBeNull();
  });
  it("leaves room for two sockets a request and a reserve", () => {
    const inFlight = inFlightCeilingFor(20_000)!;
    expect(inFlight).toBe(Math.floor((20_000 - FD_RESERVE) / 2));
    expect(2 * inFlight + FD_RESERVE).toBeLessThanOrEqual(20_000);
    expect(connectionCeilingFor(20_000, inFlight)! + inFlight + FD_RESERVE).toBeLessThanOrEqual(20_000);
    expect(inFlightCeilingFor(null)).toBeNull();
    expect(inFlightCeilingFor(100)).toBe(64);
  });
});

describe("stream report", () => {
  it("takes percentiles of stream lengths", () => {
    expect(percentileOf([], 0.5)).toBeNull();
    expect(percentileOf([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentileOf(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(100);
  });

  it("reads unlabelled gauges from a Prometheus exposition", () => {
    const text = "# HELP nodejs_heap_size_used_bytes x\nnodejs_heap_size_used_bytes 1048576\nnodejs_eventloop_lag_max_seconds 0.25\n";
    expect(gaugeValue(text, "nodejs_heap_size_used_bytes")).toBe(1_048_576);
    expect(gaugeValue(text, "nodejs_eventloop_lag_max_seconds")).toBe(0.25);
    expect(gaugeValue(text, "missing")).toBeNull();
  });

  it("divides the gateway by the bare proxy and counts losses outside the bare proxy", () => {
    const row = (target: string, cpu: number, lost: number): StreamCaseResult => ({
      target,
      case: "held",
      streams: 10,
      intervalMs: 1_000,
      eventsPerStream: 30,
      offeredEventsPerSec: 10,
      client: { counts: { ...emptyCounts(), complete: 10 - lost, reset: lost }, events: 300, peakOpen: 10, errorCodes: {}, refusedStatuses: {}, durationP50Ms: 33_000, durationP99Ms: 34_000, firstByteP50Ms: 500, firstByteP99Ms: 1_500, seconds: 31 },
      lost,
      cpuSeconds: 1,
      mockCpuSeconds: 1,
      cpuUsPerEvent: cpu,
      baselineRssMb: 50,
      peakRssMb: 60,
      kbPerOpenStream: cpu / 10,
      note: "",
      gauges: null,
    });
    const results = [row("bare-undici", 40, 3), row("gateway-full-memory", 50, 1)];
    expect(streamRatio(results, "held", (r) => r.cpuUsPerEvent)).toBeCloseTo(1.25);
    const md = renderStreamsMarkdown({ cores: 2, cpu: "x", node: "v24", loadBefore: 1, loadAfter: 1, fdLimit: 20_000, date: "2026-11-29T00:00:00Z" }, results);
    expect(md).toContain("CPU per streamed event (held, 33 events a stream: per-stream setup weighs in): 1.25×");
    expect(md).toContain("streams lost through the gateway and direct, every case: 1 (goal 0)");
    expect(md).toContain("| 33.0 / 34.0 [0.5 / 1.5] (33.0) |");
  });
});
