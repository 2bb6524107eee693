/** /readyz policy: `every-model` (the default) versus `any-model` when one provider is down. */
import { MockUpstream } from "../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";

describe("server.readiness", () => {
  let down: MockUpstream;
  let gw: TestGateway | null = null;
  beforeEach(async () => {
    down = await MockUpstream.start("down", { kind: "status", status: 503 });
  });
  afterEach(async () => {
    await gw?.close();
    gw = null;
    await down.stop();
  });

  const start = (readiness: "every-model" | "any-model", healthyModel: boolean) =>
    startTestGateway({
      server: { readiness },
      passiveHealth: { failures: 1, cooldownMs: 60_000 },
      models: [
        { name: "broken", targets: [{ name: "down", baseUrl: down.baseUrl }] },
        { name: "other", targets: [healthyModel ? { name: "mock", baseUrl: "mock://ok" } : { name: "down", baseUrl: down.baseUrl }] },
      ],
    });

  const ejectAll = async (url: string, models: string[]) => {
    for (const model of models) {
      const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model, messages: [] }) });
      expect(res.status).toBe(502);
    }
  };

  it("every-model: one model without a healthy target makes the replica unready", async () => {
    gw = await start("every-model", true);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    await ejectAll(gw.url, ["broken"]);
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unavailable", models: ["broken"] });
  });

  it("any-model: stays ready while some model can be served, unready when none can", async () => {
    gw = await start("any-model", true);
    await ejectAll(gw.url, ["broken"]);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    await gw.close();
    gw = await start("any-model", false);
    await ejectAll(gw.url, ["broken", "other"]);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
  });
});
