/**
 * A target hangs: it accepts and never answers, sends headers and then nothing, or stops in
 * the middle of a stream. Per-attempt timeouts fire, failover happens, and the client gets an
 * answer or a clear error within the request deadline.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { MockUpstream } from "../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { chatBody, openAiError, postJson, streamChat } from "./support/http";

const ATTEMPT_TIMEOUT_MS = 400;
const DEADLINE_MS = 1_500;
/** What "within the deadline" means here: generous, for a shared CI machine. */
const SLACK_MS = 2_000;
/**
 * The healthy targets' own timeout: one a loaded machine cannot hit (the attempt timeout now
 * fires exactly on time, so a 400 ms one would also cut a good answer delayed by the load).
 */
const GOOD = { timeoutMs: 10_000 };
/**
 * The deadline where a hung attempt (400 ms, never ejected: a timeout is no proof of ill health)
 * is followed by a good one: room for the good answer on a loaded machine.
 */
const FAILOVER_DEADLINE_MS = 5_000;

/** An upstream that sends 200 headers (JSON or SSE) and then not one byte more. */
async function headersOnlyServer(contentType: string): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": contentType });
    res.flushHeaders();
    held.push(res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("a target hangs", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function gateway(models: Parameters<typeof startTestGateway>[0]["models"], upstreamDefaults = {}): Promise<TestGateway> {
    const gw = await startTestGateway({ models, upstreamDefaults: { timeoutMs: ATTEMPT_TIMEOUT_MS, deadlineMs: DEADLINE_MS, ...upstreamDefaults } });
    cleanups.push(() => gw.close());
    return gw;
  }
  async function upstream(name: string, behavior: MockUpstream["behavior"]): Promise<MockUpstream> {
    const mock = await MockUpstream.start(name, behavior);
    cleanups.push(() => mock.stop());
    return mock;
  }

  it("times out a target that accepts and never answers, and fails over (streaming or not)", async () => {
    const hung = await upstream("hung", { kind: "hang" });
    const good = await upstream("good", { kind: "ok", tokens: 6 });
    const gw = await gateway([{ name: "m", strategy: "round-robin", targets: [{ name: "hung", baseUrl: hung.baseUrl }, { name: "good", baseUrl: good.baseUrl, ...GOOD }] }], { deadlineMs: FAILOVER_DEADLINE_MS });
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => postJson(gw.url, "/v1/chat/completions", chatBody("m"))),
      ...Array.from({ length: 6 }, () => streamChat(gw.url, chatBody("m"))),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers["x-gateway-target"]).toBe("good");
      expect(answer.ms).toBeLessThan(FAILOVER_DEADLINE_MS + SLACK_MS);
    }
    expect(answers.filter((a) => a.headers["x-gateway-attempts"] === "2").length).toBeGreaterThan(0);
    expect(hung.completions.length).toBeGreaterThan(0);
  });

  it("answers 504 within the deadline when every target hangs", async () => {
    const a = await upstream("a", { kind: "hang" });
    const b = await upstream("b", { kind: "hang" });
    const gw = await gateway([{ name: "m", targets: [{ name: "a", baseUrl: a.baseUrl }, { name: "b", baseUrl: b.baseUrl }] }]);
    const plain = await postJson(gw.url, "/v1/chat/completions", chatBody("m"));
    const stream = await streamChat(gw.url, chatBody("m"));
    for (const answer of [plain, stream]) {
      expect(answer.status).toBe(504);
      expect(openAiError(answer.status, answer.headers, "text" in answer ? answer.text : "").code).toBe("upstream_timeout");
      expect(answer.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    }
  });

  it("lets the overall deadline cut an attempt whose own timeout is longer", async () => {
    const hung = await upstream("hung", { kind: "hang" });
    const gw = await gateway([{ name: "m", targets: [{ name: "hung", baseUrl: hung.baseUrl, timeoutMs: 60_000 }] }], { deadlineMs: 800 });
    const answer = await postJson(gw.url, "/v1/chat/completions", chatBody("m"), { headers: { "x-request-id": "deadline-800" } });
    expect(answer.status).toBe(504);
    // Never early, on the gateway's own clock (load only makes it later): undici's coarse
    // headersTimeout once cut this at 583 ms.
    const logged = gw.logs().find((l) => l.msg === "request" && l.reqId === "deadline-800");
    expect(logged?.latencyMs).toBeGreaterThanOrEqual(800);
    expect(answer.ms).toBeLessThan(800 + SLACK_MS);
  });

  it("fails over from a target that sends headers and then nothing, before any byte reached the client", async () => {
    const json = await headersOnlyServer("application/json");
    const sse = await headersOnlyServer("text/event-stream");
    cleanups.push(json.close, sse.close);
    const good = await upstream("good", { kind: "ok", tokens: 6 });
    const gw = await gateway([
      { name: "json", strategy: "round-robin", targets: [{ name: "silent", baseUrl: json.url }, { name: "good", baseUrl: good.baseUrl, ...GOOD }] },
      { name: "sse", strategy: "round-robin", targets: [{ name: "silent", baseUrl: sse.url }, { name: "good", baseUrl: good.baseUrl, ...GOOD }] },
    ], { deadlineMs: FAILOVER_DEADLINE_MS });
    const answers = await Promise.all([postJson(gw.url, "/v1/chat/completions", chatBody("json")), streamChat(gw.url, chatBody("sse")), postJson(gw.url, "/v1/chat/completions", chatBody("json")), streamChat(gw.url, chatBody("sse"))]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers["x-gateway-target"]).toBe("good");
      expect(answer.ms).toBeLessThan(FAILOVER_DEADLINE_MS + SLACK_MS);
    }
    expect(answers.filter((a) => a.headers["x-gateway-attempts"] === "2").length).toBeGreaterThanOrEqual(2);
  });

  it("ends a stream whose upstream stops mid-way with an SSE error event once the body timeout fires", async () => {
    const stalls = await upstream("stalls", { kind: "cut-stream", afterEvents: 3, hang: true });
    const gw = await gateway([{ name: "m", targets: [{ name: "stalls", baseUrl: stalls.baseUrl }] }]);
    const answers = await Promise.all(Array.from({ length: 5 }, () => streamChat(gw.url, chatBody("m"))));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.transportError).toBeNull();
      expect(answer.done).toBe(false);
      expect(answer.events.length).toBe(4);
      expect(answer.error).toMatchObject({ code: "upstream_stream_interrupted", type: "server_error" });
      expect(answer.ms).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS - 50);
      expect(answer.ms).toBeLessThan(ATTEMPT_TIMEOUT_MS + SLACK_MS);
    }
    expect(stalls.abortedByPeer).toBe(5);
  });

  it("ends a stream that runs past maxStreamMs with an SSE error event", async () => {
    const slow = await upstream("slow", { kind: "ok", tokens: 1_000, interTokenMs: 20 });
    const gw = await gateway([{ name: "m", targets: [{ name: "slow", baseUrl: slow.baseUrl }] }], { maxStreamMs: 700 });
    const answer = await streamChat(gw.url, chatBody("m"));
    expect(answer.status).toBe(200);
    expect(answer.transportError).toBeNull();
    expect(answer.error).toMatchObject({ message: "The stream exceeded the gateway's maximum duration.", code: "upstream_stream_interrupted" });
    expect(answer.events.length).toBeGreaterThan(5);
    expect(answer.ms).toBeLessThan(700 + SLACK_MS);
  });

  it("stays healthy after all of it", async () => {
    const hung = await upstream("hung", { kind: "hang" });
    const good = await upstream("good", { kind: "ok" });
    const gw = await gateway([
      { name: "hung", targets: [{ name: "hung", baseUrl: hung.baseUrl }] },
      { name: "good", targets: [{ name: "good", baseUrl: good.baseUrl, ...GOOD }] },
    ]);
    const hanging = Array.from({ length: 50 }, () => postJson(gw.url, "/v1/chat/completions", chatBody("hung")));
    const served = await Promise.all(Array.from({ length: 20 }, () => postJson(gw.url, "/v1/chat/completions", chatBody("good"))));
    expect(served.every((a) => a.status === 200)).toBe(true);
    const timedOut = await Promise.all(hanging);
    expect(timedOut.every((a) => a.status === 504)).toBe(true);
    expect(gw.logs().filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
  });
});
