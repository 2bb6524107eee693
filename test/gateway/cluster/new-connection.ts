/** One POST on a connection of its own, so that, in multi-process mode, each may land on another worker. */
import { request as httpRequest } from "node:http";

export function postOnNewConnection(url: string, body: unknown, requestId: string, headers: Record<string, string> = {}): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: "POST", path: "/v1/chat/completions", agent: false, headers: { "content-type": "application/json", "x-request-id": requestId, connection: "close", ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${requestId} in 10 s`)));
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
