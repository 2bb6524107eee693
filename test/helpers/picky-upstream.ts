/**
 * A real HTTP upstream on 127.0.0.1 whose health endpoint is particular, as real providers are:
 * no `/models`, a POST-only ping, a required header, Anthropic's `x-api-key` and
 * `anthropic-version`. Chat completions answer like OpenAI; every request is recorded.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mockChatCompletion } from "../../gateway/src/upstream/mock-responses";

export interface HealthRule {
  method: string;
  /** The full path the probe must hit, e.g. `/v1/health`. */
  path: string;
  /** Headers the probe must carry, lower-case names. */
  headers?: Record<string, string>;
  /** Status when the rule is met (default 200). */
  status?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export class PickyUpstream {
  readonly requests: SeenRequest[] = [];
  /** Set to make the health endpoint fail (e.g. 503) while the rule is met. */
  failWith: number | null = null;

  private constructor(private readonly server: Server, readonly rule: HealthRule) {}

  static async start(rule: HealthRule): Promise<PickyUpstream> {
    let upstream: PickyUpstream | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        upstream!.requests.push(seen);
        const answer = upstream!.answer(seen);
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(answer.body);
      });
    });
    upstream = new PickyUpstream(server, rule);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return upstream;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Requests to the health path (whatever their method). */
  get probes(): SeenRequest[] {
    return this.requests.filter((r) => r.path === this.rule.path);
  }

  private answer(seen: SeenRequest): { status: number; body: string } {
    if (seen.method === "POST" && seen.path === "/v1/chat/completions") {
      return { status: 200, body: JSON.stringify(mockChatCompletion(JSON.parse(seen.body || "{}"), 4, "picky")) };
    }
    if (seen.path !== this.rule.path) return { status: 404, body: '{"error":{"message":"not found"}}' };
    if (seen.method !== this.rule.method) return { status: 405, body: '{"error":{"message":"method not allowed"}}' };
    for (const [name, value] of Object.entries(this.rule.headers ?? {})) {
      if (seen.headers[name] !== value) return { status: 401, body: '{"error":{"message":"missing header"}}' };
    }
    return { status: this.failWith ?? this.rule.status ?? 200, body: '{"ok":true}' };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
