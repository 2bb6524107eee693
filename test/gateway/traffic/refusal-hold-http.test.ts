/**
 * Through HTTP: a key already over its requests per minute is refused before its body is read,
 * and that refusal is held (limits.refusalDelayMs) so a client ignoring Retry-After cannot loop
 * it. The held answer still says when to retry, counted from the moment it is sent.
 */
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { chat, startTrafficGateway } from "./http-helpers";

const AUTH = { authorization: "Bearer sk-hold-0123456789" };

describe("held refusals", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 2 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      limits: { refusalDelayMs: 700 },
      keys: [{ name: "hold", key: "sk-hold-0123456789", limits: { requestsPerMinute: 1 } }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  it("holds a refusal known before the body is read, then answers 429 with Retry-After", async () => {
    expect((await chat(gw.url, { model: "m" }, AUTH)).status).toBe(200);
    // The store refuses this one, and the replica learns the key is full for about a minute.
    const learned = await chat(gw.url, { model: "m" }, AUTH);
    expect(learned.status).toBe(429);
    await learned.arrayBuffer();

    const started = performance.now();
    const held = await chat(gw.url, { model: "m" }, AUTH);
    const tookMs = performance.now() - started;
    expect(held.status).toBe(429);
    expect((await held.json()) as unknown).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    // Held at least most of the configured delay (a busy machine only makes it longer).
    expect(tookMs).toBeGreaterThanOrEqual(600);
    const retryAfter = Number(held.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(upstream.completions).toHaveLength(1);
  });
});
