/**
 * bench/lib/stage-probe.ts, preloaded into a real proxy process (the bare undici proxy, bundled
 * with esbuild into a temp directory) in front of a real SSE upstream: one row per finished
 * request, its stages in order and non-negative, and the writes and reads it counted. No timing is
 * asserted beyond order (the machine is shared).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { request } from "undici";

const ROOT = resolve(__dirname, "../..");
const EVENTS = Array.from({ length: 24 }, (_, i) => `data: {"choices":[{"delta":{"content":"w${i}"}}]}\n\n`).join("") + "data: [DONE]\n\n";

describe("stage probe (bench:ttfb-stages)", () => {
  let dir: string;
  let upstream: Server;
  let proxy: ChildProcess;
  let proxyPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "aigw-stage-probe-"));
    for (const [entry, out] of [
      ["bench/lib/stage-probe.ts", "probe.js"],
      ["bench/bare-undici-proxy.ts", "bare.js"],
    ]) {
      buildSync({ entryPoints: [join(ROOT, entry)], bundle: true, platform: "node", format: "cjs", outfile: join(dir, out), external: ["undici"], logLevel: "silent" });
    }
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(EVENTS); // one write: the whole stream in one read at the proxy
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    proxy = spawn(process.execPath, ["--require", join(dir, "probe.js"), join(dir, "bare.js"), "--port", "0", "--upstream", `http://127.0.0.1:${upstreamPort}`], {
      env: { ...process.env, BENCH_STAGE_FILE: join(dir, "stages.json"), NODE_PATH: join(ROOT, "node_modules") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    proxyPort = await new Promise<number>((resolvePort, reject) => {
      let out = "";
      proxy.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) resolvePort((JSON.parse(line) as { port: number }).port);
      });
      proxy.once("exit", (code) => reject(new Error(`proxy exited with ${code}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy.once("exit", r));
      proxy.kill("SIGTERM");
      await exited;
    }
    await new Promise((r) => upstream?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("records one row per finished request: stages in order, the client writes and upstream reads it made", async () => {
    const requests = 20;
    for (let i = 0; i < requests; i++) {
      const res = await request(`http://127.0.0.1:${proxyPort}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"stream":true}' });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe(EVENTS);
    }
    const file = join(dir, "stages.json");
    const deadline = Date.now() + 10_000;
    let rows: number[][] = [];
    // The probe writes every 500 ms; a request's row is complete when the next one arrives.
    while (Date.now() < deadline && rows.length < requests - 1) {
      await new Promise((r) => setTimeout(r, 200));
      if (existsSync(file)) rows = JSON.parse(readFileSync(file, "utf8")) as number[][];
    }
    expect(rows).toHaveLength(requests - 1);
    for (const [beforeUpstream, upstreamMs, afterUpstream, clientWrites, upstreamReads] of rows) {
      for (const stage of [beforeUpstream, upstreamMs, afterUpstream]) {
        expect(Number.isFinite(stage)).toBe(true);
        expect(stage).toBeGreaterThanOrEqual(0);
      }
      expect(clientWrites).toBeGreaterThanOrEqual(1);
      expect(upstreamReads).toBeGreaterThanOrEqual(1);
    }
  }, 60_000);
});
