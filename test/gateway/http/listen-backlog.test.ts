/**
 * The listen backlog (server.listenBacklog): the kernel's accept queue of the public listener is
 * as long as configured (capped by net.core.somaxconn), not Node's default 511, which overflowed
 * under a burst of connects to a busy process (the kernel then reset connections unanswered).
 * Read back with `ss` (iproute2): for a listening socket its Send-Q column is the backlog.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { serverFixture } from "../../helpers/fixture";

function listenBacklogOf(port: number): number {
  const out = execFileSync("ss", ["-Hltn", `sport = :${port}`], { encoding: "utf8" }).trim();
  const columns = out.split(/\s+/);
  if (columns[0] !== "LISTEN") throw new Error(`no listening socket on port ${port} in: ${out}`);
  return Number(columns[2]);
}

const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());

describe("listen backlog", () => {
  const fx = serverFixture();
  const models = [{ name: "gpt", targets: [{ name: "mock", baseUrl: "mock://gpt" }] }];

  it("defaults to 4096 (or the kernel's cap), not Node's 511", async () => {
    const gw = await fx.gateway(models);
    expect(listenBacklogOf(gw.gateway.port)).toBe(Math.min(4096, somaxconn));
  });

  it("follows server.listenBacklog", async () => {
    const gw = await fx.gateway(models, { server: { listenBacklog: 1000 } });
    expect(listenBacklogOf(gw.gateway.port)).toBe(Math.min(1000, somaxconn));
  });
});
