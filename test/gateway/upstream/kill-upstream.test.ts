/** Killing one of two upstream targets during a run of requests loses no request. */
import { chat } from "../../helpers/http-client";
import { MockUpstream } from "../../helpers/mock-upstream";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

describe("an upstream dies mid-run", () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: TestGateway;
  beforeEach(async () => {
    a = await MockUpstream.start("a", { kind: "ok", latencyMs: 5 });
    b = await MockUpstream.start("b", { kind: "ok", latencyMs: 5 });
    gw = await startTestGateway({
      logging: { level: "info" },
      models: [{ name: "m", strategy: "round-robin", targets: [{ name: "a", baseUrl: a.baseUrl }, { name: "b", baseUrl: b.baseUrl }] }],
    });
  });
  afterEach(async () => {
    await gw.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  it("answers all 200 requests (concurrency 10) with 200 when one target is killed halfway", async () => {
    const total = 200;
    const statuses: number[] = [];
    const targetsAfterKill: string[] = [];
    let sent = 0;
    let killed: Promise<void> | null = null;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (sent < total) {
          sent++;
          if (sent === total / 2) killed = b.kill();
          const res = await chat(gw.url, { model: "m" });
          const body = await res.text();
          statuses.push(res.status);
          if (killed && res.status !== 200) throw new Error(`lost a request: ${res.status} ${body}`);
          if (killed) targetsAfterKill.push(res.headers.get("x-gateway-target")!);
        }
      }),
    );
    await killed;
    expect(statuses).toHaveLength(total);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Both served before the kill; afterwards the survivor took over.
    expect(a.completions.length).toBeGreaterThan(0);
    expect(b.completions.length).toBeGreaterThan(0);
    expect(targetsAfterKill.slice(-20).every((t) => t === "a")).toBe(true);
    const lines = gw.logs().filter((l) => l.msg === "request");
    expect(lines).toHaveLength(total);
    expect(lines.some((l) => (l.attempts as number) > 1)).toBe(true);
  });
});
