/**
 * The accept-delay probe is the gateway's own connection to its public listener, ten a second:
 * with `logging.accessLogProbes` on (an operator who wants the orchestrator's probes logged),
 * it must not add ten `/healthz` access lines a second of its own. A real client's probe is
 * still logged.
 */
import { eventually, startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

describe("accept-delay probe and the probe access log", () => {
  let gw: TestGateway;
  afterAll(async () => {
    await gw?.close();
  });

  it("logs a client's /healthz, not the gateway's own probes", async () => {
    gw = await startTestGateway({
      server: { overload: { maxAcceptDelayMs: 1_000 } },
      logging: { accessLogProbes: true },
      models: [{ name: "m", targets: [{ name: "t", baseUrl: "http://127.0.0.1:9/v1" }] }],
    });
    // The probe runs: a few answered samples (every 100 ms).
    await eventually(() => gw.gateway.runtime.overload.acceptDelayMs > 0, 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const res = await fetch(`${gw.url}/healthz`, { headers: { "x-request-id": "client-probe" } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await eventually(() => gw.logs().some((l) => l.reqId === "client-probe"), 5_000);
    const healthzLines = gw.logs().filter((l) => l.msg === "request" && l.route === "healthz");
    expect(healthzLines.map((l) => l.reqId)).toEqual(["client-probe"]);
  });
});
