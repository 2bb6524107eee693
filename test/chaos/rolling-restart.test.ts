/**
 * A rolling restart of two real gateway replicas behind a round-robin proxy (a stand-in for a
 * Kubernetes Service, skipping a replica whose connection is refused) while clients keep
 * sending streaming and non-streaming requests: replica A gets SIGTERM, drains, exits and is
 * started again, then replica B. Not one client request may fail.
 */
import { Agent } from "undici";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, spawnGateway, testConfig, type SpawnedGateway } from "../helpers/gateway-harness";
import { freePort } from "../helpers/redis-server";
import { RoundRobinProxy } from "./support/round-robin-proxy";
import { chatBody, postJson, sleep, streamChat } from "./support/http";

const CLIENTS = 16;
const TOKENS = 8;

describe("rolling restart of two replicas", () => {
  let upstream: MockUpstream;
  let proxy: RoundRobinProxy;
  const replicas = new Map<number, SpawnedGateway>();
  const agent = new Agent({ connections: 64 });

  afterAll(async () => {
    for (const replica of replicas.values()) {
      if (replica.child.exitCode === null && replica.child.signalCode === null) {
        replica.kill("SIGKILL");
        await replica.exited;
      }
    }
    await proxy?.close();
    await upstream?.stop();
    await agent.close();
  });

  const config = (port: number): GatewayConfigInput =>
    testConfig({ server: { port, shutdownGraceMs: 15_000 }, logging: { level: "info", accessLog: false }, models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }] });

  async function startReplica(port: number): Promise<void> {
    replicas.set(port, await spawnGateway(config(port)));
  }

  async function rollingRestart(ports: number[]): Promise<void> {
    for (const port of ports) {
      const replica = replicas.get(port)!;
      const servedBefore = proxy.served.get(port) ?? 0;
      replica.kill("SIGTERM");
      const exited = await Promise.race([replica.exited, sleep(15_000).then(() => "still running")]);
      expect({ port, exited, output: exited === 0 ? "" : replica.output().slice(-3000) }).toEqual({ port, exited: 0, output: "" });
      // The replica is gone for a moment, as a pod between termination and its replacement.
      await sleep(300);
      await startReplica(port);
      await eventually(() => (proxy.served.get(port) ?? 0) > servedBefore + 20, 10_000);
    }
  }

  it("serves every client request while A, then B, is drained, stopped and started again", async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: TOKENS, latencyMs: 30, ttftMs: 30, interTokenMs: 25 });
    const ports = [await freePort(), await freePort()];
    await Promise.all(ports.map(startReplica));
    proxy = await RoundRobinProxy.start(ports);

    const failures: string[] = [];
    let sent = 0;
    let streamed = 0;
    let running = true;
    const client = async (id: number) => {
      for (let i = 0; running; i++) {
        sent++;
        try {
          if ((id + i) % 2 === 0) {
            const answer = await streamChat(proxy.url, chatBody("m"), { dispatcher: agent, timeoutMs: 10_000 });
            if (answer.status !== 200 || !answer.done || answer.error || answer.transportError || answer.content.trim().split(" ").length !== TOKENS) failures.push(`stream: ${answer.status} ${answer.transportError ?? ""} ${answer.text}`);
            else streamed++;
          } else {
            const answer = await postJson(proxy.url, "/v1/chat/completions", chatBody("m"), { dispatcher: agent, timeoutMs: 10_000 });
            if (answer.status !== 200) failures.push(`json: ${answer.status} ${answer.text}`);
          }
        } catch (err) {
          failures.push(`client: ${(err as Error).message}`);
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, id) => client(id));

    try {
      await sleep(500);
      await rollingRestart(ports);
      await sleep(300);
    } finally {
      running = false;
      await Promise.all(clients);
    }

    expect(failures).toEqual([]);
    expect(proxy.failures).toEqual([]);
    expect(sent).toBeGreaterThan(150);
    expect(streamed).toBeGreaterThan(50);
    // The restart really happened under load: the proxy had to skip each replica while it was down.
    for (const port of ports) expect(proxy.refused.get(port) ?? 0).toBeGreaterThan(0);
    console.log(`rolling restart: ${sent} requests sent, ${failures.length} failed, refused connections skipped: ${[...proxy.refused.values()].join("+")}`);
  });
});
