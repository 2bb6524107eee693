/**
 * The log destination: lines are encoded straight into a preallocated chunk (64 KiB, or PIPE_BUF
 * for cluster workers) and a full chunk, or whatever is held when the flush timer fires, is
 * written with one synchronous write. A line costs a memcpy; a syscall is shared by ~140 access
 * lines. pino's asynchronous sonic-boom, used before, cost more per line (string ropes flattened
 * to measure them, each batch encoded twice, a thread-pool hop per write).
 *
 * Guarantees: lines are written in the order given, each write is whole lines (a line longer than
 * a chunk is written alone), nothing is lost on a graceful exit (`flush()` on drain, and a
 * `process.on("exit")` hook for `process.exit`). A crash loses at most what is held: lines from
 * the last `flushIntervalMs`, never more than one chunk plus what a blocked reader left queued.
 */
import { writeSync } from "node:fs";

export interface LineSinkOptions {
  /** File descriptor to write to (1: stdout). */
  fd?: number;
  /** Bytes per write; lines never straddle two. PIPE_BUF (4096) keeps writes to a shared pipe atomic. */
  chunkBytes?: number;
  /** The longest a line waits before it is written. */
  flushIntervalMs?: number;
  /** Beyond this many bytes waiting for a blocked reader (EAGAIN), new lines are dropped and counted. */
  maxQueuedBytes?: number;
  /** The write call (fs.writeSync); tests pass one that records or refuses writes. */
  writeSync?: (fd: number, bytes: Buffer) => number;
}

export const DEFAULT_CHUNK_BYTES = 64 * 1024;
export const DEFAULT_FLUSH_INTERVAL_MS = 250;
const RETRY_MS = 10;

/** Every open sink, flushed once when the process exits (one listener, however many sinks). */
const open = new Set<LineSink>();
let exitHooked = false;
function flushAllOnExit(): void {
  for (const sink of open) sink.flush();
}

export class LineSink {
  private readonly fd: number;
  private readonly chunkBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueuedBytes: number;
  private readonly writeSync: (fd: number, bytes: Buffer) => number;
  /** The chunk lines are appended to; null while idle (an idle sink holds no memory). */
  private chunk: Buffer | null = null;
  private used = 0;
  /** Sealed chunks a blocked reader has not taken yet, oldest first. */
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The reader said EAGAIN: nothing is tried again before the retry timer. */
  private blocked = false;
  private closed = false;
  /** Lines dropped because the reader stayed blocked past maxQueuedBytes (or the destination failed). */
  dropped = 0;
  /** Of `dropped`, those already reported in a warning line. */
  private reported = 0;

  constructor(options: LineSinkOptions = {}) {
    this.fd = options.fd ?? 1;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.writeSync = options.writeSync ?? writeSync;
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on("exit", flushAllOnExit);
    }
  }

  /** Appends one line (with its newline). Never throws for I/O: a failing destination must not fail requests. */
  write(line: string): boolean {
    if (this.closed) return false;
    let chunk = this.chunk;
    if (chunk === null) chunk = this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    const free = this.chunkBytes - this.used;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only when that bound does not fit.
    if (line.length * 3 > free) {
      const bytes = Buffer.byteLength(line);
      if (bytes > free) {
        this.seal();
        if (bytes > this.chunkBytes) {
          this.put(Buffer.from(line));
          return true;
        }
        if (this.chunk === null) this.chunk = Buffer.allocUnsafe(this.chunkBytes);
        chunk = this.chunk;
      }
    }
    this.used += chunk.write(line, this.used);
    if (this.used === this.chunkBytes) this.seal();
    if (this.timer === null) this.armTimer(this.flushIntervalMs);
    return true;
  }

  /** Writes everything held now (drain, exit, tests). */
  flush(callback?: (err?: Error) => void): void {
    this.blocked = false;
    this.drain();
    this.reportDropped();
    this.seal();
    callback?.();
  }

  /** Once the reader takes lines again, says how many were dropped while it did not. */
  private reportDropped(): void {
    if (this.dropped === this.reported || this.blocked || this.queue.length > 0) return;
    const count = this.dropped - this.reported;
    this.reported = this.dropped;
    this.write(`{"level":"warn","time":"${new Date().toISOString()}","dropped":${count},"msg":"log lines dropped: the log reader was blocked"}\n`);
  }

  /** pino calls this on `logger.flush()` for synchronous destinations. */
  flushSync(): void {
    this.flush();
  }

  /** Flushes and stops (the fd stays open: it is usually stdout). */
  end(): void {
    this.flush();
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    open.delete(this);
  }

  /** Writes the current chunk's lines; the chunk is reused when the reader took them all. */
  private seal(): void {
    const chunk = this.chunk;
    if (chunk === null || this.used === 0) return;
    const filled = chunk.subarray(0, this.used);
    this.used = 0;
    if (this.queue.length === 0 && !this.blocked) {
      const written = this.writeOut(filled);
      if (written === filled.length) return;
      this.enqueue(filled.subarray(written));
    } else this.enqueue(filled);
    // Its bytes wait in the queue: new lines go to a new chunk.
    this.chunk = null;
  }

  /** A line longer than a chunk: written alone, after what is queued. */
  private put(bytes: Buffer): void {
    this.enqueue(bytes);
    this.drain();
  }

  private enqueue(bytes: Buffer): void {
    if (this.queuedBytes + bytes.length > this.maxQueuedBytes) {
      this.dropped += countLines(bytes);
      return;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
  }

  /** Writes queued chunks in order until done or the reader is full. */
  private drain(): void {
    while (this.queue.length > 0 && !this.blocked) {
      const head = this.queue[0];
      const written = this.writeOut(head);
      this.queuedBytes -= written;
      if (written === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(written);
    }
  }

  /** One write; bytes taken (all of them when the destination is gone: those lines are dropped). */
  private writeOut(bytes: Buffer): number {
    try {
      return this.writeSync(this.fd, bytes);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK") {
        // A non-blocking pipe whose reader is behind: keep the bytes, try again shortly.
        this.blocked = true;
        if (this.timer !== null) clearTimeout(this.timer);
        this.armTimer(RETRY_MS);
        return 0;
      }
      // A closed or broken destination (EPIPE, EBADF): the lines have nowhere to go.
      this.dropped += countLines(bytes);
      return bytes.length;
    }
  }

  private armTimer(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
      // Idle: let the chunk go, so a quiet sink holds no memory.
      if (this.used === 0 && this.queue.length === 0) this.chunk = null;
    }, ms);
    this.timer.unref();
  }
}

function countLines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return Math.max(n, 1);
}
