/**
 * Gateways with traffic control for HTTP-level tests: the real pipeline (startGateway) with
 * createTrafficControl plugged in, plus a parked upstream that holds answers until released.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GatewayConfigInput } from "../../../gateway/src/config/schema";
import { mockChatCompletion } from "../../../gateway/src/upstream/mock-responses";
import { createTrafficControl } from "../../../gateway/src/traffic";
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

export type GatewayInput = Partial<GatewayConfigInput> & Pick<GatewayConfigInput, "models">;

export function startTrafficGateway(input: GatewayInput): Promise<TestGateway> {
  // A generous command timeout: a loaded test machine must not trip the local fallback by itself
  // (a killed Redis still fails at once: connection errors do not wait for the timeout).
  const redis = input.redis && { commandTimeoutMs: 5_000, ...input.redis };
  return startTestGateway({ ...input, redis }, { trafficControl: (config, deps) => createTrafficControl(config, { ...deps, redisReadyTimeoutMs: 5_000, redisProbeIntervalMs: 100, keyRefreshMs: 200 }) });
}

export async function chat(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content: "hello world" }], ...body }),
  });
}

/** Reads a metric sample from /metrics, e.g. `aigw_store_fallback` or `aigw_budget_used_ratio{key="a",team="t"}`. */
export async function metricValue(url: string, sample: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return null;
}

/**
 * An OpenAI-like upstream that parks every chat request until release(): a test can see how
 * many requests got through admission before any of them settles.
 */
export class ParkedUpstream {
  private readonly parked: { req: IncomingMessage; res: ServerResponse; body: Record<string, unknown> }[] = [];
  received = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<ParkedUpstream> {
    let self: ParkedUpstream | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        self!.received++;
        const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
        self!.parked.push({ req, res, body });
      });
    });
    self = new ParkedUpstream(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return self;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Answers every parked request with a normal chat completion. */
  release(): void {
    for (const { res, body } of this.parked.splice(0)) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(mockChatCompletion(body, 4, "parked")));
    }
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
