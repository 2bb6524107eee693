/**
 * Preloaded into a proxy under test (`node --require dist/bench/lib/stage-probe.js`) with
 * BENCH_STAGE_FILE=FILE: timestamps, inside the proxy, the stages of each request on one
 * connection (one request at a time), so the time a stream takes to its first byte splits into
 * what the proxy does before calling the upstream, the upstream's answer, and what the proxy
 * does between the upstream's first bytes and its own first write to the client:
 *   request  node:http emitted the request
 *   upWrite  first write on an upstream (client-side) socket after it
 *   upRead   first read from an upstream socket after that write (undici reads with socket.read())
 *   out      first write on the client's (server-side) socket after that read
 * Also counted per request: writes to the client's socket (writev calls: syscalls) and upstream
 * reads, up to the next request. Only for one request at a time: with concurrent requests the
 * stages of different requests mix. The samples (one row per request: the three stages in ms,
 * then the two counts) are written to FILE every 500 ms.
 */
import { writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";

type Stamps = { request: number; upWrite: number; upRead: number; out: number; outWrites: number; upReads: number };

const file = process.env.BENCH_STAGE_FILE;
if (file) install(file);

function install(out: string): void {
  const rows: number[][] = [];
  let current: Stamps | null = null;
  /** The request whose stages are done, still counting its writes and reads until the next one. */
  let last: Stamps | null = null;
  const done = () => {
    if (last !== null) rows.push([last.upWrite - last.request, last.upRead - last.upWrite, last.out - last.upRead, last.outWrites, last.upReads]);
    last = current;
    current = null;
  };
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
    if (event === "request") current = { request: performance.now(), upWrite: 0, upRead: 0, out: 0, outWrites: 0, upReads: 0 };
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof emit;
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown; read: (...a: unknown[]) => unknown };
  const writeGeneric = proto._writeGeneric;
  proto._writeGeneric = function (this: net.Socket & { server?: unknown }, ...a: unknown[]) {
    const c = current;
    const counted = c ?? last;
    if (counted !== null && this.server != null) counted.outWrites++;
    if (c !== null) {
      if (this.server == null) {
        if (c.upWrite === 0) c.upWrite = performance.now();
      } else if (c.upRead !== 0 && c.out === 0) {
        c.out = performance.now();
        done();
      }
    }
    return writeGeneric.apply(this, a);
  };
  const read = proto.read;
  proto.read = function (this: net.Socket & { server?: unknown }, ...a: unknown[]) {
    const chunk = read.apply(this, a);
    const c = current;
    if (chunk !== null && this.server == null) {
      const counted = c ?? last;
      if (counted !== null) counted.upReads++;
    }
    if (c !== null && chunk !== null && this.server == null && c.upWrite !== 0 && c.upRead === 0) c.upRead = performance.now();
    return chunk;
  };
  let written = 0;
  setInterval(() => {
    if (rows.length === written) return;
    written = rows.length;
    writeFileSync(out, JSON.stringify(rows));
  }, 500).unref();
}
