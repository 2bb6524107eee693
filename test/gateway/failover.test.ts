/** Failover across targets and fallback models, all before the first byte reaches the client. */
import { MockUpstream } from "../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";

const chat = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...body }) });

describe("failover", () => {
  let upstreams: MockUpstream[] = [];
  let gw: TestGateway | null = null;
  afterEach(async () => {
    await gw?.close();
    await Promise.all(upstreams.map((u) => u.stop()));
    upstreams = [];
    gw = null;
  });

  it("retries a 500 on the next target and reports the attempts and target", async () => {
    const bad = await MockUpstream.start("bad", { kind: "status", status: 500 });
    const good = await MockUpstream.start("good");
    upstreams = [bad, good];
    gw = await startTestGateway({
      models: [{ name: "m", strategy: "round-robin", targets: [{ name: "bad", baseUrl: bad.baseUrl }, { name: "good", baseUrl: good.baseUrl }] }],
    });
    for (let i = 0; i < 4; i++) {
      const res = await chat(gw.url, { model: "m" });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gateway-target")).toBe("good");
      expect(Number(res.headers.get("x-gateway-attempts"))).toBeGreaterThanOrEqual(1);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0].message.content).toContain("gateway");
    }
    expect(bad.completions.length).toBeGreaterThan(0);
  });
});
