/**
 * A reload takes effect on the next request of a config key, on the synchronous admission path
 * (config keys, memory store): a raised concurrency limit admits at once, a removed key is
 * refused at once, and slots taken before the reload are given back when their streams end.
 */
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";
import { validateConfig } from "../../../gateway/src/config/validate";
import { eventually, startTestGateway, testConfig, type TestGateway } from "../../helpers/gateway-harness";
import { chat, metricValue, scrape } from "../../helpers/http-client";
import { MockUpstream, NextBehavior, type Behavior } from "../../helpers/mock-upstream";

const KEY = "sk-reload-limits-3b9c1a";
const auth = { authorization: `Bearer ${KEY}` };
const DELTA = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n';
const HELD: Behavior = { kind: "sse", chunks: [DELTA, DELTA, DELTA], holdAt: 2 };

describe("reload and the synchronous admission", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  const script = new NextBehavior();
  const config = (concurrent: number, keys = true): Partial<GatewayConfigInput> & Pick<GatewayConfigInput, "models"> => ({
    upstreamDefaults: { maxAttempts: 1, maxStreamMs: 60_000, timeoutMs: 60_000, deadlineMs: 60_000 },
    auth: { required: true },
    plans: { p: { concurrent, requestsPerMinute: 100_000 } },
    keys: keys ? [{ name: "k", key: KEY, plan: "p" }] : [],
    limits: { store: "memory" },
    models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
  });

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", script.take);
    gw = await startTestGateway(config(1));
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  it("raised limit admits at once, removed key refused at once, old slots freed when their streams end", async () => {
    script.once(HELD);
    const first = await chat(gw.url, { model: "m", stream: true }, auth);
    const firstReader = first.body!.getReader();
    await firstReader.read();
    const refused = await chat(gw.url, { model: "m" }, auth);
    expect(refused.status).toBe(429);
    await refused.arrayBuffer();

    gw.gateway.reload(() => validateConfig(testConfig(config(2))));
    script.once(HELD);
    const second = await chat(gw.url, { model: "m", stream: true }, auth);
    expect(second.status).toBe(200);
    const secondReader = second.body!.getReader();
    await secondReader.read();

    gw.gateway.reload(() => validateConfig(testConfig(config(2, false))));
    const revoked = await chat(gw.url, { model: "m" }, auth);
    expect(revoked.status).toBe(401);
    await revoked.arrayBuffer();

    // Back to one slot; both streams (one admitted before each reload) end and free theirs.
    gw.gateway.reload(() => validateConfig(testConfig(config(1))));
    await firstReader.cancel();
    await secondReader.cancel();
    await eventually(async () => metricValue(await scrape(gw.url), "aigw_inflight_requests") === 0, 10_000);
    const again = await chat(gw.url, { model: "m" }, auth);
    expect(again.status).toBe(200);
    await again.arrayBuffer();
    script.once(HELD);
    const third = await chat(gw.url, { model: "m", stream: true }, auth);
    expect(third.status).toBe(200);
    const thirdReader = third.body!.getReader();
    await thirdReader.read();
    const full = await chat(gw.url, { model: "m" }, auth);
    expect(full.status).toBe(429);
    await full.arrayBuffer();
    await thirdReader.cancel();
  });
});
