/**
 * Small HTTP clients for gateway tests: fetch-based JSON posts, a raw `node:http` request that
 * sends the path exactly as written (fetch would normalise `/v1/../admin`), SSE event parsing
 * and Prometheus text look-ups.
 */
import { request, type Agent, type IncomingHttpHeaders } from "node:http";

export const HI = [{ role: "user", content: "hi" }];

export function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** POST /v1/chat/completions with a one-message conversation unless `messages` is given. */
export function chat(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return postJson(url, "/v1/chat/completions", { messages: HI, ...body }, headers);
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over node:http, path untouched; `chunks` are written one by one (chunked encoding). */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[]; agent?: Agent },
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: options.method ?? "GET", path: options.path, headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((event) => event.split(/\r?\n/).filter((line) => line.startsWith("data:")).map((line) => line.slice(line[5] === " " ? 6 : 5)).join("\n"))
    .filter((data) => data.length > 0);
}

/** Reads a fetch response body to the end, calling `onChunk` with each decoded chunk as it arrives. */
export async function readStream(res: Response, onChunk: (text: string, index: number) => void = () => {}): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (let i = 0; ; i++) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    onChunk(chunk, i);
  }
  return text;
}

/** The value of one sample in Prometheus text, matching every given label; null when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => present.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return null;
}

export async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** A response's JSON body, loosely typed for assertions (fetch types it `unknown`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response): Promise<any> {
  return res.json();
}
