/** Each balancing strategy over real upstream servers: how requests actually spread. */
import { chat } from "../../helpers/http-client";
import type { MockUpstream } from "../../helpers/mock-upstream";
import { serverFixture } from "../../helpers/fixture";
import type { Strategy } from "../../../gateway/src/config/schema";

describe("routing strategies over real upstreams", () => {
  const servers = serverFixture();

  async function setup(strategy: Strategy, specs: { name: string; weight?: number; latencyMs?: number }[]): Promise<MockUpstream[]> {
    const upstreams = await Promise.all(specs.map((s) => servers.upstream(s.name, { kind: "ok", latencyMs: s.latencyMs ?? 0 })));
    await servers.gateway([{ name: "m", strategy, targets: specs.map((s, i) => ({ name: s.name, baseUrl: upstreams[i].baseUrl, weight: s.weight ?? 1 })) }]);
    return upstreams;
  }

  /** Sends `n` requests, `concurrency` at a time; returns the x-gateway-target of each. */
  async function send(n: number, concurrency = 1): Promise<string[]> {
    const targets: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          next++;
          const res = await chat(servers.gw.url, { model: "m" });
          expect(res.status).toBe(200);
          await res.arrayBuffer();
          targets.push(res.headers.get("x-gateway-target")!);
        }
      }),
    );
    return targets;
  }

  it("round-robin alternates between targets", async () => {
    const [a, b] = await setup("round-robin", [{ name: "a" }, { name: "b" }]);
    expect(await send(6)).toEqual(["a", "b", "a", "b", "a", "b"]);
    expect([a.completions.length, b.completions.length]).toEqual([3, 3]);
  });

  it("weighted 3:1 sends exactly three quarters to the heavy target", async () => {
    const [heavy, light] = await setup("weighted", [{ name: "heavy", weight: 3 }, { name: "light", weight: 1 }]);
    await send(40, 4);
    expect([heavy.completions.length, light.completions.length]).toEqual([30, 10]);
  });

  it("least-busy steers concurrent requests away from a slow target", async () => {
    const [slow, fast] = await setup("least-busy", [{ name: "slow", latencyMs: 300 }, { name: "fast" }]);
    await send(40, 4);
    expect(slow.completions.length + fast.completions.length).toBe(40);
    expect(fast.completions.length).toBeGreaterThan(3 * slow.completions.length);
  });

  it("latency (P2C over EWMA) prefers the fast target once both are measured", async () => {
    const [slow, fast] = await setup("latency", [{ name: "slow", latencyMs: 200 }, { name: "fast" }]);
    const targets = await send(20);
    // Each target may be tried while unmeasured; after that, the fast one wins every comparison.
    expect(slow.completions.length).toBeLessThanOrEqual(3);
    expect(targets.slice(10).every((t) => t === "fast")).toBe(true);
  });
});
