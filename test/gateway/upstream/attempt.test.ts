/** One upstream attempt as an undici handler: when it settles, pause/resume, and early aborts. */
import type { Dispatcher } from "undici";
import { UpstreamAttempt, type StreamSink } from "../../../gateway/src/upstream/attempt";

class FakeController implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  resumes = 0;
  abort(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.resumes++;
  }
}

class RecordingSink implements StreamSink {
  chunks: string[] = [];
  ended = false;
  failed: Error | null = null;
  accept = true;
  drain: (() => void) | null = null;
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk.toString());
    return this.accept;
  }
  /** What flush() answers (a sink that held writes back and finds the client slow says false). */
  flushAccepts = true;
  flushes = 0;
  flush(): boolean {
    this.flushes++;
    return this.flushAccepts;
  }
  onDrain(resume: () => void): void {
    this.drain = resume;
  }
  end(): void {
    this.ended = true;
  }
  fail(error: Error): void {
    this.failed = error;
  }
}

const SSE = { "content-type": "text/event-stream" };
const JSON_TYPE = { "content-type": "application/json" };
const withCode = (code: string) => Object.assign(new Error(code), { code });

function started(wantStream: boolean, maxBytes = 1024): { attempt: UpstreamAttempt; controller: FakeController } {
  const attempt = new UpstreamAttempt(wantStream, maxBytes);
  const controller = new FakeController();
  attempt.onRequestStart(controller);
  return { attempt, controller };
}

describe("UpstreamAttempt", () => {
  it("buffers a non-streaming answer and settles with the whole body", async () => {
    const { attempt, controller } = started(false);
    attempt.onResponseStart(controller, 200, JSON_TYPE);
    attempt.onResponseData(controller, Buffer.from('{"a":'));
    attempt.onResponseData(controller, Buffer.from("1}"));
    attempt.onResponseEnd();
    expect(await attempt.result).toMatchObject({ kind: "buffered", status: 200, body: Buffer.from('{"a":1}') });
  });

  it("buffers an error status even for a streaming request", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 500, SSE);
    attempt.onResponseData(controller, Buffer.from("oops"));
    attempt.onResponseEnd();
    expect(await attempt.result).toMatchObject({ kind: "buffered", status: 500 });
  });

  it("aborts an answer larger than the buffer limit, and fails as invalid", async () => {
    const { attempt, controller } = started(false, 8);
    attempt.onResponseStart(controller, 200, JSON_TYPE);
    attempt.onResponseData(controller, Buffer.alloc(9));
    expect((controller.reason as { code?: string }).code).toBe("GW_RESPONSE_TOO_LARGE");
    attempt.onResponseError(controller, controller.reason!);
    expect(await attempt.result).toEqual({ kind: "failed", failure: { reason: "invalid_response", detail: "response too large" } });
  });

  it("settles a stream on its first chunk, then pipes the rest with backpressure", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    // Not paused: undici would put the rest of the read back into the socket and read it again.
    expect(controller.paused).toBe(false);
    expect(await attempt.result).toMatchObject({ kind: "stream", status: 200, first: Buffer.from("data: 1\n\n") });
    const sink = new RecordingSink();
    attempt.attach(sink);
    expect(controller.paused).toBe(false);
    sink.accept = false;
    attempt.onResponseData(controller, Buffer.from("data: 2\n\n"));
    expect(controller.paused).toBe(true);
    sink.drain!();
    expect(controller.paused).toBe(false);
    attempt.onResponseEnd();
    expect(sink.chunks).toEqual(["data: 2\n\n"]);
    expect(sink.ended).toBe(true);
  });

  it("keeps what comes between the first chunk and attach, in order, then the end", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    attempt.onResponseData(controller, Buffer.from("data: 2\n\n"));
    attempt.onResponseData(controller, Buffer.from("data: 3\n\n"));
    attempt.onResponseEnd();
    expect(await attempt.result).toMatchObject({ kind: "stream", first: Buffer.from("data: 1\n\n") });
    const sink = new RecordingSink();
    attempt.attach(sink);
    expect(sink.chunks).toEqual(["data: 2\n\n", "data: 3\n\n"]);
    expect(sink.ended).toBe(true);
    // The end takes what the sink held back: no separate flush.
    expect(sink.flushes).toBe(0);
    expect(controller.resumes).toBe(0);
  });

  it("flushes the sink once after the kept chunks, and waits for the client's drain when that write finds it slow", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    attempt.onResponseData(controller, Buffer.from("data: 2\n\n"));
    const sink = new RecordingSink();
    sink.flushAccepts = false;
    attempt.attach(sink);
    expect(sink.chunks).toEqual(["data: 2\n\n"]);
    expect(sink.flushes).toBe(1);
    expect(controller.paused).toBe(true);
    sink.drain!();
    expect(controller.paused).toBe(false);
    attempt.onResponseData(controller, Buffer.from("data: 3\n\n"));
    expect(sink.flushes).toBe(1);
  });

  it("pauses the upstream when a stream not yet attached has sent 64 KiB more, and resumes it on attach", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    attempt.onResponseData(controller, Buffer.alloc(40 * 1024, 0x61));
    expect(controller.paused).toBe(false);
    attempt.onResponseData(controller, Buffer.alloc(40 * 1024, 0x62));
    expect(controller.paused).toBe(true);
    const sink = new RecordingSink();
    attempt.attach(sink);
    expect(sink.chunks.map((c) => c.length)).toEqual([40 * 1024, 40 * 1024]);
    expect(controller.paused).toBe(false);
  });

  it("waits for the client's drain when the chunks kept before attach filled its buffer", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    attempt.onResponseData(controller, Buffer.from("data: 2\n\n"));
    attempt.onResponseData(controller, Buffer.from("data: 3\n\n"));
    const sink = new RecordingSink();
    sink.accept = false;
    attempt.attach(sink);
    // Both kept chunks are written (bounded), then the upstream waits for the client.
    expect(sink.chunks).toEqual(["data: 2\n\n", "data: 3\n\n"]);
    expect(controller.paused).toBe(true);
    sink.drain!();
    expect(controller.paused).toBe(false);
  });

  it("passes on what came before an upstream error, then the error", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    attempt.onResponseData(controller, Buffer.from("data: 2\n\n"));
    attempt.onResponseError(controller, withCode("UND_ERR_SOCKET"));
    const sink = new RecordingSink();
    attempt.attach(sink);
    expect(sink.chunks).toEqual(["data: 2\n\n"]);
    expect((sink.failed as { code?: string }).code).toBe("UND_ERR_SOCKET");
  });

  it("treats a stream that ends before any byte as an invalid answer (another target may try)", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseEnd();
    expect(await attempt.result).toEqual({ kind: "failed", failure: { reason: "invalid_response", detail: "empty stream" } });
  });

  it("hands an error that came before attach to the sink once attached", async () => {
    const { attempt, controller } = started(true);
    attempt.onResponseStart(controller, 200, SSE);
    attempt.onResponseData(controller, Buffer.from("data: 1\n\n"));
    attempt.onResponseError(controller, withCode("UND_ERR_SOCKET"));
    const sink = new RecordingSink();
    attempt.attach(sink);
    expect((sink.failed as { code?: string }).code).toBe("UND_ERR_SOCKET");
  });

  it("classifies transport errors and the deadline", async () => {
    const timeout = started(false);
    timeout.attempt.onResponseError(timeout.controller, withCode("UND_ERR_HEADERS_TIMEOUT"));
    expect(await timeout.attempt.result).toMatchObject({ kind: "failed", failure: { reason: "timeout" } });
    const deadline = started(false);
    deadline.attempt.abort(withCode("GW_DEADLINE"));
    deadline.attempt.onResponseError(deadline.controller, deadline.controller.reason!);
    expect(await deadline.attempt.result).toMatchObject({ kind: "failed", failure: { reason: "deadline" } });
  });

  it("settles at once when aborted before undici started it, and aborts it when it starts", async () => {
    const attempt = new UpstreamAttempt(false, 1024);
    attempt.abort(withCode("GW_DEADLINE"));
    expect(await attempt.result).toMatchObject({ kind: "failed", failure: { reason: "deadline" } });
    const controller = new FakeController();
    attempt.onRequestStart(controller);
    expect((controller.reason as { code?: string }).code).toBe("GW_DEADLINE");
    // The late error undici then reports changes nothing.
    attempt.onResponseError(controller, controller.reason!);
    expect(await attempt.result).toMatchObject({ kind: "failed", failure: { reason: "deadline" } });
  });

  describe("armTimeouts: one timer for the headers wait and the deadline", () => {
    const codeOf = (c: FakeController) => (c.reason as { code?: string } | null)?.code;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it("aborts with GW_ATTEMPT_TIMEOUT when no headers came within the wait", async () => {
      const { attempt, controller } = started(false);
      attempt.armTimeouts(30, performance.now() + 10_000);
      await sleep(400);
      expect(codeOf(controller)).toBe("GW_ATTEMPT_TIMEOUT");
    });

    it("with headers in, lets a slow body run past the wait and aborts it at the deadline (GW_DEADLINE)", async () => {
      const { attempt, controller } = started(false);
      const armedAt = performance.now();
      attempt.armTimeouts(30, armedAt + 250);
      attempt.onResponseStart(controller, 200, JSON_TYPE);
      attempt.onResponseData(controller, Buffer.from('{"a":'));
      await sleep(120);
      expect(controller.aborted).toBe(false); // past the 30 ms wait: headers were in
      while (!controller.aborted && performance.now() - armedAt < 5_000) await sleep(10);
      expect(codeOf(controller)).toBe("GW_DEADLINE");
      expect(performance.now() - armedAt).toBeGreaterThanOrEqual(249);
    });

    it("arms only the deadline when it comes before the wait would end", async () => {
      const { controller } = (() => {
        const s = started(false);
        s.attempt.armTimeouts(60_000, performance.now() + 30);
        return s;
      })();
      await sleep(400);
      expect(codeOf(controller)).toBe("GW_DEADLINE");
    });

    it("fires nothing once the attempt settled", async () => {
      const { attempt, controller } = started(false);
      attempt.armTimeouts(20, performance.now() + 40);
      attempt.onResponseStart(controller, 200, JSON_TYPE);
      attempt.onResponseData(controller, Buffer.from("{}"));
      attempt.onResponseEnd();
      expect(await attempt.result).toMatchObject({ kind: "buffered", status: 200 });
      await sleep(200);
      expect(controller.aborted).toBe(false);
    });
  });
});
