/** The SSE usage filter: events pass through unchanged, usage is read, the injected usage chunk dropped. */
import { SseUsageFilter } from "../../../gateway/src/stream/sse-usage-filter";
import { mockChatStreamEvents, mockTextStreamEvents } from "../../../gateway/src/upstream/mock-responses";

const USAGE = { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 };
const chunk = (content: string, extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }], ...extra })}\n\n`;
const usageEvent = `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [], usage: USAGE })}\n\n`;
const DONE = "data: [DONE]\n\n";

/** Runs `parts` through a filter and returns everything it forwarded, plus the filter. */
function run(parts: (string | Buffer)[], drop: boolean): { out: string; filter: SseUsageFilter; forwarded: Buffer[] } {
  const filter = new SseUsageFilter(drop);
  const forwarded = parts.map((p) => filter.push(Buffer.isBuffer(p) ? p : Buffer.from(p)));
  forwarded.push(filter.flush());
  return { out: Buffer.concat(forwarded).toString("utf8"), filter, forwarded };
}

/** Every way to cut `text` into two chunks. */
function everySplit(text: string): [Buffer, Buffer][] {
  const bytes = Buffer.from(text);
  return Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)]);
}

describe("SseUsageFilter", () => {
  it("forwards a stream without usage byte for byte, each complete event at once", () => {
    const events = [chunk("Hello"), chunk(" world"), DONE];
    const { out, forwarded, filter } = run(events, true);
    expect(out).toBe(events.join(""));
    expect(forwarded.slice(0, 3).map(String)).toEqual(events);
    expect(filter.usage).toBeNull();
  });

  it("drops the usage-only event it injected and reads the usage", () => {
    const { out, filter } = run([chunk("Hi"), usageEvent, DONE], true);
    expect(out).toBe(chunk("Hi") + DONE);
    expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
  });

  it("keeps the usage event when the client asked for it", () => {
    const { out, filter } = run([chunk("Hi"), usageEvent, DONE], false);
    expect(out).toBe(chunk("Hi") + usageEvent + DONE);
    expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
  });

  it("keeps chunks that carry `usage: null` (include_usage style) untouched", () => {
    const withNull = chunk("Hi", { usage: null });
    const { out } = run([withNull, usageEvent, DONE], true);
    expect(out).toBe(withNull + DONE);
  });

  it("reads usage from a last chunk that still has choices, without dropping it", () => {
    const last = chunk("!", { usage: USAGE });
    const { out, filter } = run([chunk("Hi"), last, DONE], true);
    expect(out).toBe(chunk("Hi") + last + DONE);
    expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
  });

  it("handles events split across chunks at every byte offset", () => {
    const stream = chunk("Hi") + usageEvent + DONE;
    for (const [a, b] of everySplit(stream)) {
      const { out, filter } = run([a, b], true);
      expect(out).toBe(chunk("Hi") + DONE);
      expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
    }
  });

  it("handles a stream delivered one byte at a time", () => {
    const stream = mockChatStreamEvents({ model: "m", messages: [], stream_options: { include_usage: true } }, 5).join("");
    const { out, filter } = run([...Buffer.from(stream)].map((b) => Buffer.from([b])), true);
    expect(out).not.toContain('"choices":[]');
    expect(out.endsWith(DONE)).toBe(true);
    expect(filter.usage).toEqual({ promptTokens: expect.any(Number), completionTokens: 5 });
  });

  it("never forwards part of an event", () => {
    const filter = new SseUsageFilter(true);
    expect(filter.push(Buffer.from('data: {"choices":[{"delta"')).length).toBe(0);
    expect(filter.push(Buffer.from(':{"content":"x"}}]}\n')).length).toBe(0);
    expect(String(filter.push(Buffer.from("\ndata: {")))).toBe('data: {"choices":[{"delta":{"content":"x"}}]}\n\n');
  });

  it("handles CRLF line endings, split anywhere", () => {
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    const stream = crlf(chunk("Hi") + usageEvent + DONE);
    for (const [a, b] of everySplit(stream)) {
      const { out, filter } = run([a, b], true);
      expect(out).toBe(crlf(chunk("Hi") + DONE));
      expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
    }
  });

  it("follows the SSE spec's CR-only and mixed line endings, split anywhere, forwarding each event at once", () => {
    for (const ending of ["\r", "\r\n", "\n"]) {
      const recode = (text: string) => text.replace(/\n/g, ending);
      const stream = recode(chunk("Hi") + usageEvent + DONE);
      for (const [a, b] of everySplit(stream)) {
        const { out, filter } = run([a, b], true);
        expect(out).toBe(recode(chunk("Hi") + DONE));
        expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
      }
      // A complete event is forwarded on arrival, not held for the next one.
      const filter = new SseUsageFilter(true);
      expect(filter.push(Buffer.from(recode(chunk("a")))).toString()).toBe(recode(chunk("a")));
    }
    const mixed = `data: {"choices":[{"delta":{"content":"x"}}]}\r\n\rdata: ${JSON.stringify({ choices: [], usage: USAGE })}\n\r\ndata: [DONE]\r\r`;
    const { out, filter } = run([mixed], true);
    expect(out).toBe(`data: {"choices":[{"delta":{"content":"x"}}]}\r\n\rdata: [DONE]\r\r`);
    expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
  });

  it("costs linear time on a 1 MB event arriving in 1- to 32-byte pieces", () => {
    const big = Buffer.from(`data: ${JSON.stringify({ choices: [{ delta: { content: "x".repeat(1 << 20) } }] })}\n\n`);
    const pieces = (bytes: Buffer, size: (i: number) => number) => {
      const out: Buffer[] = [];
      for (let at = 0, i = 0; at < bytes.length; i++) {
        out.push(bytes.subarray(at, at + size(i)));
        at += size(i);
      }
      return out;
    };
    const time = (parts: Buffer[]) => {
      const filter = new SseUsageFilter(true);
      const started = performance.now();
      let forwarded = 0;
      for (const part of parts) forwarded += filter.push(part).length;
      forwarded += filter.flush().length;
      return { ms: performance.now() - started, forwarded };
    };
    // The linear reference: as many pushes of as many bytes, each a complete small event.
    const small = pieces(big, (i) => 1 + (i % 32));
    const reference = time(small.map((p) => Buffer.concat([Buffer.from("data: "), p.subarray(0, Math.max(0, p.length - 8)), Buffer.from("\n\n")])));
    const measured = time(small);
    expect(measured.forwarded).toBe(big.length);
    // Generous: quadratic copying (each piece re-joined with everything held) took seconds here.
    expect(measured.ms).toBeLessThan(20 * reference.ms + 200);
    const bytewise = time(pieces(big.subarray(0, 256 * 1024), () => 1));
    expect(bytewise.ms).toBeLessThan(20 * reference.ms + 200);
  });

  it("reads multi-line data and `data:` without a space", () => {
    const event = `event: message\ndata:{"choices":[],\ndata: "usage":{"prompt_tokens":2,"completion_tokens":3}}\n\n`;
    const { out, filter } = run([chunk("a"), event, DONE], true);
    expect(out).toBe(chunk("a") + DONE);
    expect(filter.usage).toEqual({ promptTokens: 2, completionTokens: 3 });
  });

  it("keeps multi-byte characters intact when a chunk splits them", () => {
    const stream = chunk("héllo wörld ✓ 你好") + DONE;
    const bytes = Buffer.from(stream);
    const at = bytes.indexOf(Buffer.from("你")) + 1;
    const { out } = run([bytes.subarray(0, at), bytes.subarray(at)], true);
    expect(out).toBe(stream);
  });

  it("does not mistake usage-like text inside content for a usage block", () => {
    const sneaky = chunk('{"usage":{"prompt_tokens":1}} and choices:[]');
    const { out, filter } = run([sneaky, DONE], true);
    expect(out).toBe(sneaky + DONE);
    expect(filter.usage).toBeNull();
  });

  it("flushes an unterminated last event, reading its usage", () => {
    const tail = `data: ${JSON.stringify({ choices: [], usage: USAGE })}`;
    const { out, filter } = run([chunk("a"), tail], false);
    expect(out).toBe(chunk("a") + tail);
    expect(filter.usage).toEqual({ promptTokens: 7, completionTokens: 4 });
  });

  it("drops the usage chunk of a streamed text completion too", () => {
    const events = mockTextStreamEvents({ model: "m", prompt: "x", stream_options: { include_usage: true } }, 3);
    const { out, filter } = run(events, true);
    expect(out).toBe([...events.slice(0, 3), DONE].join(""));
    expect(filter.usage?.completionTokens).toBe(3);
  });

  it("forwards data with no event boundary once it passes 1 MiB (not SSE)", () => {
    const filter = new SseUsageFilter(true);
    expect(filter.push(Buffer.alloc(512 * 1024, 0x61)).length).toBe(0);
    expect(filter.push(Buffer.alloc(600 * 1024, 0x61)).length).toBe(1112 * 1024);
    expect(filter.flush().length).toBe(0);
  });
});
