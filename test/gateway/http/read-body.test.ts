/**
 * A request body read at once when it has all arrived (readBodyNow), or as it comes (readBody):
 * the same bytes and the same limits either way, over real sockets.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { BufferBudget } from "../../../gateway/src/http/buffer-budget";
import { readBody, readBodyNow } from "../../../gateway/src/http/read-body";

/** `sync`: the body was taken at once (readBodyNow). */
type Seen = { sync: boolean; body?: string; error?: string };

let server: Server;
let port: number;
let limit = 1_000;
let budget: BufferBudget | null = null;

async function handle(req: IncomingMessage): Promise<Seen> {
  const hold = budget?.hold() ?? null;
  try {
    // As the proxy handler does: a body in the headers' read is parsed right after the request event.
    if (req.readableLength === 0) await null;
    const now = readBodyNow(req, limit, hold);
    if (now !== null) return { sync: true, body: now.toString() };
    return { sync: false, body: (await readBody(req, limit, hold)).toString() };
  } catch (err) {
    return { sync: false, error: (err as { code?: string }).code };
  } finally {
    hold?.release();
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void handle(req).then((seen) => res.end(JSON.stringify(seen)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  limit = 1_000;
  budget = null;
});

/** Sends raw bytes (the head, then each later part after `gapMs`) and returns the JSON answer. */
function send(parts: string[], gapMs = 50): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    socket.on("data", (c) => {
      out += c.toString();
      const at = out.indexOf("\r\n\r\n");
      if (at !== -1 && out.includes("}", at)) {
        socket.destroy();
        resolve(JSON.parse(out.slice(at + 4).replace(/^[0-9a-f]+\r\n/, "").replace(/\r\n0\r\n\r\n$/, "")) as Seen);
      }
    });
    socket.on("error", reject);
    parts.forEach((part, i) => setTimeout(() => socket.write(part), i * gapMs));
  });
}

const head = (length: number) => `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;

describe("reading a request body", () => {
  it("takes a body that came with its headers at once, byte for byte", async () => {
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "héllo" }] });
    expect(await send([head(Buffer.byteLength(body)) + body])).toEqual({ sync: true, body });
  });

  it("waits for a body that is still arriving, and gets all of it", async () => {
    const body = '{"model":"m","messages":[]}';
    expect(await send([head(body.length) + body.slice(0, 10), body.slice(10)])).toEqual({ sync: false, body });
  });

  it("refuses a body over the limit (413) whether declared or chunked", async () => {
    limit = 10;
    const body = '{"model":"too-long-for-the-limit"}';
    expect(await send([head(body.length) + body])).toEqual({ sync: false, error: "GW_ERR_BODY_TOO_LARGE" });
    // Chunked, undeclared: read as it comes, and cut at the limit all the same.
    const chunked = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    expect(await send([chunked])).toEqual({ sync: false, error: "GW_ERR_BODY_TOO_LARGE" });
  });

  it("refuses a whole body the buffer budget cannot hold (503 overloaded), and frees the budget", async () => {
    // The budget is checked on the path that takes the body at once too.
    budget = new BufferBudget(8);
    const body = '{"model":"m"}';
    expect(await send([head(body.length) + body])).toEqual({ sync: false, error: "GW_ERR_SERVER_OVERLOADED" });
    expect(budget.usedBytes).toBe(0);
  });
});
