/**
 * A real OTLP/HTTP JSON trace collector on 127.0.0.1: it records every export request's spans,
 * or misbehaves (answers 503, never answers) as a test tells it to.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status: { code?: number; message?: string };
}

export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  readonly exports: { headers: IncomingHttpHeaders; serviceName: unknown; spanCount: number }[] = [];
  mode: "ok" | "503" | "hang" = "ok";

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpCollector> {
    let collector: OtlpCollector | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const self = collector!;
        if (self.mode === "hang") return;
        if (self.mode === "503" || req.method !== "POST" || req.url !== "/v1/traces") {
          res.writeHead(503).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const resource = body.resourceSpans[0];
        const spans: CollectedSpan[] = resource.scopeSpans.flatMap((s: { spans: CollectedSpan[] }) => s.spans);
        self.exports.push({ headers: req.headers, serviceName: resource.resource.attributes.find((a: { key: string }) => a.key === "service.name")?.value.stringValue, spanCount: spans.length });
        self.spans.push(...spans);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    collector = new OtlpCollector(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return collector;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  /** A span attribute's value, whatever its type. */
  static attr(span: CollectedSpan, key: string): unknown {
    const value = span.attributes.find((a) => a.key === key)?.value;
    return value === undefined ? undefined : Object.values(value)[0];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
