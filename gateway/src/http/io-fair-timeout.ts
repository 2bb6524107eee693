/**
 * A timeout that gives I/O ready at its deadline the last word. After an event-loop stall the
 * timers phase runs before the poll phase, so a plain timer would cut a client whose drain (or
 * data) had arrived during the stall, only because the loop lagged. This one, when due, waits
 * one more turn of the loop (setImmediate runs after the poll phase) before it fires.
 */

export interface IoFairTimeout {
  clear(): void;
}

export function ioFairTimeout(onTimeout: () => void, ms: number): IoFairTimeout {
  let cleared = false;
  const timer = setTimeout(() => {
    setImmediate(() => {
      if (!cleared) onTimeout();
    });
  }, ms);
  timer.unref();
  return {
    clear: () => {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
