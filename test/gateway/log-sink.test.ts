/**
 * The batched log destination (gateway/src/log-sink.ts): lines whole and in order, writes cut at
 * line boundaries within the chunk size, flushed on its timer, on flush() and on process.exit,
 * kept through a blocked reader, and never interleaved by two processes sharing one pipe.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LineSink } from "../../gateway/src/log-sink";

const SINK = resolve(__dirname, "../../dist/gateway/src/log-sink.js");

/** Lines of varied length and script (multi-byte UTF-8), numbered so order is checkable. */
function lines(count: number, seed = 7): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const pad = "é→漢".repeat(x % 60) + "a".repeat(x % 300);
    out.push(`${JSON.stringify({ n: i, pad })}\n`);
  }
  return out;
}

/** A writeSync that records each write's bytes (optionally refusing some with EAGAIN). */
function recorder(refuse: (call: number) => boolean = () => false) {
  const writes: Buffer[] = [];
  let calls = 0;
  const writeSync = (_fd: number, bytes: Buffer): number => {
    if (refuse(calls++)) throw Object.assign(new Error("EAGAIN"), { code: "EAGAIN" });
    writes.push(Buffer.from(bytes));
    return bytes.length;
  };
  return { writes, writeSync, text: () => Buffer.concat(writes).toString("utf8") };
}

describe("LineSink", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "aigw-sink-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes every line whole and in order, in writes of whole lines no longer than a chunk", () => {
    const rec = recorder();
    const sink = new LineSink({ chunkBytes: 4096, writeSync: rec.writeSync, flushIntervalMs: 60_000 });
    const input = lines(3_000);
    for (const line of input) sink.write(line);
    sink.end();
    expect(rec.text()).toBe(input.join(""));
    expect(rec.writes.length).toBeGreaterThan(100);
    for (const write of rec.writes) {
      expect(write.length).toBeLessThanOrEqual(4096);
      expect(write[write.length - 1]).toBe(0x0a);
    }
  });

  it("batches: nothing is written until a chunk fills, then one write carries many lines", () => {
    const rec = recorder();
    const sink = new LineSink({ writeSync: rec.writeSync, flushIntervalMs: 60_000 });
    const input = lines(2_000, 3);
    for (const line of input) sink.write(line);
    const bytes = Buffer.byteLength(input.join(""));
    expect(bytes).toBeGreaterThan(2 * 65_536);
    // Only full chunks so far (each within a line of 64 KiB); the rest waits for the timer or flush.
    expect(rec.writes.length).toBeGreaterThanOrEqual(2);
    for (const write of rec.writes) expect(write.length).toBeGreaterThan(60_000);
    expect(Buffer.concat(rec.writes).length).toBeLessThan(bytes);
    sink.end();
    expect(rec.text()).toBe(input.join(""));
  });

  it("writes a line longer than a chunk alone, after the lines before it", () => {
    const rec = recorder();
    const sink = new LineSink({ chunkBytes: 4096, writeSync: rec.writeSync, flushIntervalMs: 60_000 });
    const long = `${"x".repeat(10_000)}\n`;
    sink.write("first\n");
    sink.write(long);
    sink.write("last\n");
    sink.end();
    expect(rec.writes.map((w) => w.toString())).toEqual(["first\n", long, "last\n"]);
  });

  it("flushes what it holds on its timer", async () => {
    const rec = recorder();
    const sink = new LineSink({ writeSync: rec.writeSync, flushIntervalMs: 30 });
    sink.write("one\n");
    sink.write("two\n");
    expect(rec.writes).toHaveLength(0);
    const deadline = Date.now() + 5_000;
    while (rec.writes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(rec.text()).toBe("one\ntwo\n");
    sink.end();
  });

  it("keeps lines through a reader that answers EAGAIN, then writes them in order", async () => {
    // The second and third writes are refused: the lines wait and go out on the retry timer.
    const rec = recorder((call) => call === 1 || call === 2);
    const sink = new LineSink({ chunkBytes: 4096, writeSync: rec.writeSync, flushIntervalMs: 60_000 });
    const input = lines(400, 11);
    for (const line of input) sink.write(line);
    const deadline = Date.now() + 5_000;
    while (Buffer.concat(rec.writes).length < Buffer.byteLength(input.join("")) - 4096 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    sink.end();
    expect(rec.text()).toBe(input.join(""));
    expect(sink.dropped).toBe(0);
  });

  it("drops (and counts) lines past maxQueuedBytes while the reader stays blocked, never reordering what it keeps", () => {
    const rec = recorder(() => true);
    const sink = new LineSink({ chunkBytes: 4096, writeSync: rec.writeSync, flushIntervalMs: 60_000, maxQueuedBytes: 16_384 });
    for (const line of lines(500, 5)) sink.write(line);
    expect(sink.dropped).toBeGreaterThan(0);
    sink.end();
    expect(rec.writes).toHaveLength(0);
  });

  it("reports how many lines it dropped once the reader takes lines again", () => {
    let refusing = true;
    const rec = recorder(() => refusing);
    const sink = new LineSink({ chunkBytes: 4096, writeSync: rec.writeSync, flushIntervalMs: 60_000, maxQueuedBytes: 8_192 });
    for (const line of lines(300, 13)) sink.write(line);
    const dropped = sink.dropped;
    expect(dropped).toBeGreaterThan(0);
    refusing = false;
    sink.write('{"msg":"after"}\n');
    sink.flush();
    const out = rec.text().split("\n").filter(Boolean);
    const warning = out.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith("log lines dropped"));
    expect(warning).toMatchObject({ level: "warn", dropped });
    expect(out[out.length - 1]).toContain("log lines dropped");
    expect(out).toContain('{"msg":"after"}');
    sink.end();
  });

  it("writes to a real file what flush() was given", () => {
    const file = join(dir, "out.log");
    const fd = openSync(file, "w");
    const sink = new LineSink({ fd, flushIntervalMs: 60_000 });
    const input = lines(5_000, 9);
    for (const line of input) sink.write(line);
    sink.flush();
    expect(readFileSync(file, "utf8")).toBe(input.join(""));
    sink.end();
    closeSync(fd);
  });

  it("loses nothing when the process calls process.exit right after logging", async () => {
    const script = `const { LineSink } = require(${JSON.stringify(SINK)}); const s = new LineSink({ flushIntervalMs: 60000 }); for (let i = 0; i < 1000; i++) s.write(JSON.stringify({ n: i }) + "\\n"); process.exit(3);`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((done) => child.once("close", (c) => done(c)));
    expect(code).toBe(3);
    expect(out.split("\n").filter(Boolean).map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("two processes writing 4 KiB chunks to one pipe never interleave their lines", async () => {
    // Each writer's lines carry its name and a counter; a torn line would fail to parse.
    const script = (name: string) =>
      `const { LineSink } = require(${JSON.stringify(SINK)}); const s = new LineSink({ chunkBytes: 4096, flushIntervalMs: 5 }); let i = 0; const pad = "z".repeat(300); const tick = () => { for (let j = 0; j < 200; j++) s.write(JSON.stringify({ w: "${name}", n: i++, pad }) + "\\n"); if (i < 20000) setImmediate(tick); else { s.end(); } }; tick();`;
    const child = spawn(process.execPath, ["-e", `const { spawn } = require("node:child_process"); for (const n of ["a", "b"]) spawn(process.execPath, ["-e", ${JSON.stringify(script("NAME"))}.replace("NAME", n)], { stdio: ["ignore", "inherit", "inherit"] });`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    await new Promise<void>((done) => child.stdout.once("close", () => done()));
    const parsed = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { w: string; n: number });
    for (const w of ["a", "b"]) expect(parsed.filter((p) => p.w === w).map((p) => p.n)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
  });
});
