/**
 * Structured JSON logging (pino) with an asynchronous destination, so log writes never block
 * the hot path. Secrets are redacted by path as a second line of defence: nothing logs them.
 */
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const dest = destination ?? pino.destination({ dest: 1, sync: false});
  return pino(
    {
      level,
      base: undefined,
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["apiKey", "*.apiKey", "authorization", "*.authorization", "key", "adminKey"], censor: "[redacted]" },
    },
    dest,
  );
}

/** Flushes an asynchronous destination before exit. */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // A sync destination or a closed stream has nothing to flush.
  }
}
