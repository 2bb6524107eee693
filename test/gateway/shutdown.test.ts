/** Graceful shutdown of the real process: SIGTERM fails readiness, refuses new work, lets streams finish, exits 0. */
import { Agent, request } from "node:http";
import { sseData } from "../helpers/http-client";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, spawnGateway, type SpawnedGateway } from "../helpers/gateway-harness";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";

/** GET /readyz; resolves with the status, or the error code when the connection is refused or closed. */
function readyz(url: string, agent?: Agent): Promise<number | string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/readyz", agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** An open stream: first chunk already read; `rest` reads to the end, or to the cut. */
async function openStream(url: string, model: string): Promise<{ first: string; rest: Promise<{ text: string; cut: boolean }> }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, stream: true, messages: [] }) });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const first = decoder.decode((await reader.read()).value, { stream: true });
  const rest = (async () => {
    let text = first;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { text, cut: false };
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return { text, cut: true };
    }
  })();
  return { first, rest };
}

describe("graceful shutdown (real process)", () => {
  let streams: MockUpstream;
  let slowJson: MockUpstream;
  let gw: SpawnedGateway | null = null;
  beforeEach(async () => {
    streams = await MockUpstream.start("streams", { kind: "ok", tokens: 20, interTokenMs: 60 });
    slowJson = await MockUpstream.start("slow-json", { kind: "ok", latencyMs: 1_200 });
  });
  afterEach(async () => {
    if (gw && gw.child.exitCode === null) {
      gw.kill("SIGKILL");
      await gw.exited;
    }
    gw = null;
    await Promise.all([streams.stop(), slowJson.stop()]);
  });

  const config = (shutdownGraceMs: number): GatewayConfigInput => ({
    server: { host: "127.0.0.1", port: 0, shutdownGraceMs },
    healthCheck: { enabled: false },
    models: [
      { name: "stream", targets: [{ name: "streams", baseUrl: streams.baseUrl }] },
      { name: "json", targets: [{ name: "slow-json", baseUrl: slowJson.baseUrl }] },
    ],
  });

  it("fails readiness, refuses new connections, finishes every started stream, then exits 0", async () => {
    const grace = 10_000;
    gw = await spawnGateway(config(grace));
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await readyz(gw.url, keepAlive)).toBe(200);
    const open = await Promise.all([1, 2, 3].map(() => openStream(gw!.url, "stream")));
    const json = fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "json", messages: [] }) });
    await eventually(() => slowJson.completions.length === 1);
    expect(streams.streamsCompleted).toBe(0);

    const signalledAt = Date.now();
    gw.kill("SIGTERM");
    await eventually(() => gw!.output().includes('"msg":"draining"'));
    // Readiness is gone at once: the listener is closed (new connections are refused), and the
    // idle keep-alive connection answers 503 or is closed — never 200.
    expect(await readyz(gw.url)).toBe("ECONNREFUSED");
    expect(await readyz(gw.url, keepAlive)).not.toBe(200);
    expect(streams.streamsCompleted).toBeLessThan(3);

    for (const stream of open) {
      const { text, cut } = await stream.rest;
      expect(cut).toBe(false);
      const events = sseData(text);
      expect(events.at(-1)).toBe("[DONE]");
      expect(events.some((e) => e.includes('"error"'))).toBe(false);
      expect(events.filter((e) => e.includes('"content":"') && !e.includes('"content":""'))).toHaveLength(20);
    }
    const answer = await json;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("connection")).toBe("close");
    expect((await answer.json()) as object).toHaveProperty("choices");

    expect(await gw.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(grace);
    expect(streams.streamsCompleted).toBe(3);
    expect(gw.output()).toContain('"msg":"stopped"');
    // The access log of work finished while draining is written before the exit.
    const access = gw.output().split("\n").filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l));
    expect(access.filter((l) => l.model === "stream" && l.status === 200)).toHaveLength(3);
    expect(access.filter((l) => l.model === "json" && l.status === 200)).toHaveLength(1);
    keepAlive.destroy();
  });

  it("cuts what is still running when the grace period ends, and still exits 0", async () => {
    streams.behavior = { kind: "ok", tokens: 60, interTokenMs: 100 };
    gw = await spawnGateway(config(300));
    const stream = await openStream(gw.url, "stream");
    gw.kill("SIGTERM");
    expect(await gw.exited).toBe(0);
    const { text, cut } = await stream.rest;
    expect(cut || !text.includes("[DONE]")).toBe(true);
    expect(sseData(text).at(-1)).not.toBe("[DONE]");
    expect(streams.streamsCompleted).toBe(0);
  });
});
