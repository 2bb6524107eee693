/**
 * A rolling restart of two real gateway replicas behind a round-robin proxy, done as Kubernetes
 * does it with the deployment's preStop delay: the terminating replica leaves the Service's
 * endpoints, gets SIGTERM a moment later with requests and streams still running on it, drains
 * and exits; its replacement starts on the same port and joins the endpoints once /readyz
 * answers; then the other replica. Clients send streaming and non-streaming requests all along,
 * and not one of them may fail.
 */
import { Agent } from "undici";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { MockUpstream } from "../helpers/mock-upstream";
import { eventually, spawnGateway, testConfig, type SpawnedGateway, killIfRunning } from "../helpers/gateway-harness";
import { freePort } from "../helpers/redis-server";
import { RoundRobinProxy } from "./support/round-robin-proxy";
import { chatBody, postJson, sleep, streamChat } from "./support/http";

const CLIENTS = 16;
const TOKENS = 24;
/** The deployment's preStop sleep, shortened: time for the endpoint removal to reach every node. */
const PRESTOP_MS = 200;

describe("rolling restart of two replicas", () => {
  let upstream: MockUpstream;
  let proxy: RoundRobinProxy;
  const replicas = new Map<number, SpawnedGateway>();
  const agent = new Agent({ connections: 64 });
  const inflightAtSigterm = new Map<number, number>();

  afterAll(async () => {
    for (const replica of replicas.values()) {
      await killIfRunning(replica);
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
      proxy.remove(port);
      await sleep(PRESTOP_MS);
      inflightAtSigterm.set(port, proxy.inflight.get(port) ?? 0);
      replica.kill("SIGTERM");
      const exited = await Promise.race([replica.exited, sleep(15_000).then(() => "still running")]);
      expect({ port, exited, output: exited === 0 ? "" : replica.output().slice(-3000) }).toEqual({ port, exited: 0, output: "" });
      await startReplica(port);
      await eventually(async () => (await fetch(`${replicas.get(port)!.url}/readyz`)).status === 200, 10_000);
      const servedBefore = proxy.served.get(port) ?? 0;
      proxy.add(port);
      await eventually(() => (proxy.served.get(port) ?? 0) > servedBefore + 20, 10_000);
    }
  }

  it("serves every client request while A, then B, is drained, stopped and started again", async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: TOKENS, latencyMs: 30, ttftMs: 30, interTokenMs: 30 });
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
    // The restart really happened under load: each replica got SIGTERM with requests still running on it.
    for (const port of ports) expect(inflightAtSigterm.get(port)).toBeGreaterThan(0);
    console.log(`rolling restart: ${sent} requests sent, ${failures.length} failed, in flight at each SIGTERM: ${[...inflightAtSigterm.values()].join(" and ")}`);
  });
});
