/**
 * Structured JSON logging (pino). The destination batches lines into 64 KiB writes, flushed at
 * least every 250 ms, on drain and on exit (./log-sink.ts), so logging costs the hot path one
 * string build and a memcpy per line. Two loggers share it: the general one redacts secret-named fields at any
 * depth as a second line of defence; the access log writes only fields the pipeline chose, so it skips
 * redaction (measured at ~4 µs a line).
 */
import pino, { type DestinationStream, type Logger } from "pino";
import { redactSecrets } from "./log-redact";
import { LineSink } from "./log-sink";

export type { Logger };

export interface Loggers {
  logger: Logger;
  accessLog: AccessLog;
  /** The batched stdout destination, when no other destination was given (its drop count is a metric). */
  sink: LineSink | null;
}

/**
 * The access log without pino: one hand-built JSON line per call, written onto the same batched
 * destination as the general logger. Lines keep the general logger's shape (`level` "info", ISO `time`, `msg`) so
 * log tooling reads both alike; every string is escaped with JSON.stringify, undefined fields are
 * left out (as pino does).
 */
export class AccessLog {
  private readonly enabled: boolean;
  /** Escaped `,"key":` per field name, and the line's opening per millisecond. */
  private readonly keys = new Map<string, string>();
  private lastMs = -1;
  private timePrefix = "";
  private lastMsg = "";
  private lastEnd = `,"msg":""}\n`;
  constructor(level: string, private readonly dest: DestinationStream) {
    this.enabled = level === "info" || level === "debug" || level === "trace";
  }

  /** The same destination at another level (a config reload). */
  withLevel(level: string): AccessLog {
    return new AccessLog(level, this.dest);
  }

  /** True when lines are written (level info or more verbose): callers may skip building them. */
  get on(): boolean {
    return this.enabled;
  }

  /** A line from fields already serialised as `,"key":value` pieces (the proxied request's, ../handlers/access-line.ts). */
  writeFields(fields: string, msg: string): void {
    if (!this.enabled) return;
    // Every proxied request's line ends the same way: its end is serialised once.
    if (msg !== this.lastMsg) {
      this.lastMsg = msg;
      this.lastEnd = `,"msg":${JSON.stringify(msg)}}\n`;
    }
    this.dest.write(this.prefix() + fields + this.lastEnd);
  }

  private prefix(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.timePrefix = `{"level":"info","time":"${new Date(now).toISOString()}"`;
    }
    return this.timePrefix;
  }

  info(fields: Record<string, unknown>, msg: string): void {
    if (!this.enabled) return;
    let line = this.prefix();
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      let k = this.keys.get(key);
      if (k === undefined) {
        k = `,${JSON.stringify(key)}:`;
        if (this.keys.size < 256) this.keys.set(key, k);
      }
      if (typeof value === "string") line += k + JSON.stringify(value);
      else if (typeof value === "number") line += k + (Number.isFinite(value) ? String(value) : "null");
      else line += k + (JSON.stringify(value) ?? "null");
    }
    this.dest.write(`${line},"msg":${JSON.stringify(msg)}}\n`);
  }
}

export function createLoggers(level: string, destination?: DestinationStream): Loggers {
  const sink = destination ? null : new LineSink();
  const dest = destination ?? (sink as LineSink);
  // String levels ("info", not 30): what Loki, Cloud Logging and most log pipelines read as severity.
  const base = { level, base: undefined, messageKey: "msg", timestamp: pino.stdTimeFunctions.isoTime };
  return {
    // err is serialized inside redactFields, before the walk (formatters run before serializers).
    logger: pino({ ...base, formatters: { level: (label: string) => ({ level: label }), log: redactFields }, serializers: { err: (err: unknown) => err } }, dest),
    accessLog: new AccessLog(level, dest),
    sink,
  };
}

/**
 * Secret-named fields at any depth (./log-redact.ts); not on the hot path (the access log skips
 * it). Covers what is passed to a log call; child() bindings are not redacted (none are used).
 */
function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const err = fields.err;
  const input = err instanceof Error ? { ...fields, err: pino.stdSerializers.err(err) } : fields;
  return redactSecrets(input) as Record<string, unknown>;
}

/** The general logger alone (tools and tests). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return createLoggers(level, destination).logger;
}

/** Flushes an asynchronous destination before exit. */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // A sync destination or a closed stream has nothing to flush.
  }
}
