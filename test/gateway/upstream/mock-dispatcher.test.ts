/** The built-in mock:// upstream: deterministic OpenAI answers, latency/TTFT/inter-token delays, pause and abort. */
import type { Dispatcher } from "undici";
import type { TargetConfig } from "../../../gateway/src/config/schema";
import { MockDispatcher } from "../../../gateway/src/upstream/mock-dispatcher";

type Event = { at: string; kind: "start" | "data" | "end" | "error"; status?: number; data?: string };

function target(mock: Partial<TargetConfig["mock"]> = {}, name = "t"): TargetConfig {
  return { name, baseUrl: `mock://${name}`, provider: "openai", weight: 1, headers: {}, mock: { latencyMs: 0, ttftMs: 0, interTokenMs: 0, tokens: 4, ...mock } };
}

/** Dispatches one request; every callback lands in the shared `log`, tagged `label`. */
function dispatch(mock: MockDispatcher, path: string, body: unknown, label: string, log: Event[], method = "POST") {
  let controller!: Dispatcher.DispatchController;
  const done = new Promise<void>((resolve) => {
    mock.dispatch({ method, path, body: typeof body === "string" ? body : JSON.stringify(body) } as Dispatcher.DispatchOptions, {
      onRequestStart: (c) => (controller = c),
      onResponseStart: (_c, status) => void log.push({ at: label, kind: "start", status }),
      onResponseData: (_c, chunk) => void log.push({ at: label, kind: "data", data: chunk.toString() }),
      onResponseEnd: () => (log.push({ at: label, kind: "end" }), resolve()),
      onResponseError: () => (log.push({ at: label, kind: "error" }), resolve()),
    });
  });
  return { done, controller: () => controller };
}

const body = (log: Event[], label: string) => log.filter((e) => e.at === label && e.kind === "data").map((e) => e.data).join("");

describe("MockDispatcher", () => {
  it("answers chat deterministically: the same request gets the same answer", async () => {
    const mock = new MockDispatcher(target());
    const log: Event[] = [];
    const request = { model: "m", messages: [{ role: "user", content: "hi" }] };
    await dispatch(mock, "/chat/completions", request, "a", log).done;
    await dispatch(mock, "/chat/completions", request, "b", log).done;
    await dispatch(mock, "/chat/completions", { ...request, messages: [{ role: "user", content: "other" }] }, "c", log).done;
    expect(body(log, "a")).toBe(body(log, "b"));
    expect(JSON.parse(body(log, "a")).id).not.toBe(JSON.parse(body(log, "c")).id);
    expect(JSON.parse(body(log, "a"))).toMatchObject({ object: "chat.completion", model: "m", system_fingerprint: "mock:t", usage: { completion_tokens: 4 } });
  });

  it("answers completions, embeddings, images and the model list", async () => {
    const mock = new MockDispatcher(target({}, "named"));
    const log: Event[] = [];
    await dispatch(mock, "/completions", { model: "m", prompt: "x" }, "text", log).done;
    await dispatch(mock, "/embeddings", { model: "m", input: ["a", "b"] }, "embed", log).done;
    await dispatch(mock, "/images/generations", { model: "m", prompt: "x" }, "image", log).done;
    await dispatch(mock, "/models", undefined, "models", log, "GET").done;
    await dispatch(mock, "/chat/completions", "{nope", "bad", log).done;
    expect(JSON.parse(body(log, "text")).object).toBe("text_completion");
    expect(JSON.parse(body(log, "embed")).data).toHaveLength(2);
    expect(JSON.parse(body(log, "image")).data).toHaveLength(1);
    expect(JSON.parse(body(log, "models")).data.map((m: { id: string }) => m.id)).toEqual(["named"]);
    expect(log.find((e) => e.at === "bad" && e.kind === "start")?.status).toBe(400);
  });

  it("streams SSE events, with usage only when asked", async () => {
    const mock = new MockDispatcher(target({ tokens: 3 }));
    const log: Event[] = [];
    await dispatch(mock, "/chat/completions", { model: "m", stream: true }, "plain", log).done;
    await dispatch(mock, "/chat/completions", { model: "m", stream: true, stream_options: { include_usage: true } }, "usage", log).done;
    const plain = log.filter((e) => e.at === "plain" && e.kind === "data");
    expect(plain).toHaveLength(1 + 3 + 1 + 1);
    expect(plain.at(-1)!.data).toBe("data: [DONE]\n\n");
    expect(body(log, "plain")).not.toContain('"usage"');
    expect(body(log, "usage")).toContain('"choices":[],"usage":{');
  });

  it("applies latency, time to first token and inter-token delay (seen in the order of events)", async () => {
    const log: Event[] = [];
    const late = dispatch(new MockDispatcher(target({ latencyMs: 150 })), "/chat/completions", { model: "m" }, "late", log);
    const slowFirst = dispatch(new MockDispatcher(target({ ttftMs: 120, tokens: 2 })), "/chat/completions", { model: "m", stream: true }, "ttft", log);
    const dribble = dispatch(new MockDispatcher(target({ interTokenMs: 40, tokens: 8 })), "/chat/completions", { model: "m", stream: true }, "dribble", log);
    const quick = dispatch(new MockDispatcher(target()), "/chat/completions", { model: "m" }, "quick", log);
    await Promise.all([late.done, slowFirst.done, dribble.done, quick.done]);
    const index = (at: string, kind: Event["kind"]) => log.findIndex((e) => e.at === at && e.kind === kind);
    // No latency answers before any latency; a stream starts (headers) before its first token.
    expect(index("quick", "end")).toBeLessThan(index("late", "start"));
    expect(index("ttft", "start")).toBeLessThan(index("dribble", "data"));
    expect(index("dribble", "data")).toBeLessThan(index("ttft", "data"));
    // The TTFT stream, with no inter-token delay, finishes while the dribbling one is still going.
    expect(index("ttft", "end")).toBeLessThan(index("dribble", "end"));
    expect(index("late", "end")).toBeLessThan(index("dribble", "end"));
  });

  it("honours pause/resume and abort like undici's controller", async () => {
    const mock = new MockDispatcher(target({ tokens: 20, interTokenMs: 5 }));
    const log: Event[] = [];
    const run = dispatch(mock, "/chat/completions", { model: "m", stream: true }, "s", log);
    await new Promise((r) => setTimeout(r, 0));
    run.controller().pause();
    const countAtPause = log.filter((e) => e.kind === "data").length;
    await new Promise((r) => setTimeout(r, 60));
    expect(log.filter((e) => e.kind === "data").length).toBeLessThanOrEqual(countAtPause + 1);
    run.controller().resume();
    await new Promise((r) => setTimeout(r, 15));
    run.controller().abort(new Error("client gone"));
    await run.done;
    expect(log.at(-1)!.kind).toBe("error");
    expect(log.some((e) => e.kind === "end")).toBe(false);
    expect(log.filter((e) => e.kind === "data").length).toBeLessThan(23);
  });
});
