/**
 * SIGTERM to a real gateway process with 200 streams (and some slow non-streaming requests)
 * in flight: every one already started completes, new connections are refused, and the
 * process exits 0 once the last one is done. The drain is bounded by server.shutdownGraceMs.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { mockChatCompletion } from "../../gateway/src/upstream/mock-responses";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, spawnGateway, testConfig, type SpawnedGateway, killIfRunning } from "../helpers/gateway-harness";
import { chatBody, postJson, streamChat } from "./support/http";

const STREAMS = 200;
const SLOW_REQUESTS = 40;
const TOKENS = 40;
/**
 * Jest's bound on each test, above the sum of its inner waits (start 15 s, streams under way
 * 20 s, refusal 5 s, drain 20 s, exit 10 s), so a slow machine fails on the inner wait that
 * names what was slow, never on an anonymous jest timeout.
 */
const DRAIN_TEST_MS = 120_000;

/** An upstream that holds every request until release(): requests surely in flight at SIGTERM. */
async function parkedUpstream(): Promise<{ url: string; parked(): number; release(): void; close(): Promise<void> }> {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => held.push(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const release = () => {
    for (const res of held.splice(0)) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(mockChatCompletion({ model: "slow" }, 5, "parked")));
    }
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    parked: () => held.length,
    release,
    close: async () => {
      release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("SIGTERM drain", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway | null = null;
  let agent: Agent;
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    agent = new Agent({ connections: 500 });
  });
  afterEach(async () => {
    await killIfRunning(gw);
    gw = null;
    await upstream.stop();
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await agent.close();
  });

  it(`completes all ${STREAMS} streams under way and the slow requests, refuses new connections, exits 0`, async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: TOKENS, interTokenMs: 75 });
    const parked = await parkedUpstream();
    cleanups.push(parked.close);
    gw = await spawnGateway(
      testConfig({
        server: { shutdownGraceMs: 20_000 },
        logging: { level: "info" },
        models: [
          { name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] },
          { name: "slow", targets: [{ name: "parked", baseUrl: parked.url }] },
        ],
      }),
    );
    const url = gw.url;
    const started = new Set<number>();
    const streams = Array.from({ length: STREAMS }, (_, i) => streamChat(url, chatBody("m"), { dispatcher: agent, timeoutMs: 20_000, onEvent: (n) => n >= 1 && started.add(i) }));
    const slow = Array.from({ length: SLOW_REQUESTS }, () => postJson(url, "/v1/chat/completions", chatBody("slow"), { dispatcher: agent, timeoutMs: 20_000 }));
    await eventually(() => started.size === STREAMS && parked.parked() === SLOW_REQUESTS, 20_000);

    gw.kill("SIGTERM");
    // The listener closes at once: a new connection is refused while the old ones drain.
    await eventually(async () => {
      try {
        await postJson(url, "/v1/chat/completions", chatBody("m"), { timeoutMs: 2_000 });
        return false;
      } catch (err) {
        return (err as { code?: string }).code === "ECONNREFUSED";
      }
    }, 5_000);
    expect(gw.child.exitCode).toBeNull();
    parked.release();

    const [streamed, answered] = await withinMs(Promise.all([Promise.all(streams), Promise.all(slow)]), 25_000, "the drain of every request under way");
    const code = await withinMs(gw.exited, 10_000, "exit after the drain");
    expect(code).toBe(0);

    const broken = streamed
      .filter((s) => s.status !== 200 || !s.done || s.error !== null || s.transportError !== null || s.content.trim().split(" ").length !== TOKENS)
      .map((s) => ({ status: s.status, done: s.done, error: s.error, transportError: s.transportError, words: s.content.trim().split(" ").length }));
    expect(broken).toEqual([]);
    expect(answered.map((a) => a.status)).toEqual(answered.map(() => 200));
    // The last responses of a draining gateway tell keep-alive clients to go elsewhere.
    expect(answered.every((a) => a.headers.connection === "close")).toBe(true);
    expect(gw.output()).toContain('"msg":"draining"');
    expect(gw.output()).toContain('"msg":"stopped"');
  }, DRAIN_TEST_MS);

  it("bounds the drain by shutdownGraceMs: streams that outlive it are cut and the process still exits", async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 10_000, interTokenMs: 20 });
    gw = await spawnGateway(testConfig({ server: { shutdownGraceMs: 1_000 }, logging: { level: "info" }, models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] }));
    const started = new Set<number>();
    const streams = Array.from({ length: 20 }, (_, i) => streamChat(gw!.url, chatBody("m"), { dispatcher: agent, timeoutMs: 10_000, onEvent: (n) => n >= 1 && started.add(i) }));
    await eventually(() => started.size === 20, 10_000);
    const signalledAt = performance.now();
    gw.kill("SIGTERM");
    expect(await withinMs(gw.exited, 6_000, "exit after the grace period")).toBe(0);
    expect(performance.now() - signalledAt).toBeGreaterThanOrEqual(900);
    const cut = await withinMs(Promise.all(streams), 5_000, "clients seeing the cut");
    // Cut, not hung: every client learns at once that its stream did not finish.
    expect(cut.every((s) => !s.done && (s.transportError !== null || s.error !== null))).toBe(true);
  }, DRAIN_TEST_MS);
});
