/**
 * A CPU profile of the steady state only: with BENCH_CPU_PROFILE=FILE set, the first SIGUSR2
 * starts V8's sampling profiler in this process and the second writes the .cpuprofile to FILE.
 * (`node --cpu-prof` would also record start-up and module loading.) With BENCH_HEAP_PROFILE=FILE
 * instead, the same signals take a sampling allocation profile (.heapprofile) that keeps the
 * objects GC already collected: where the garbage of each request is made.
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";

export function installSignalProfiler(file: string | undefined = process.env.BENCH_CPU_PROFILE, heapFile: string | undefined = process.env.BENCH_HEAP_PROFILE): void {
  if (heapFile) {
    // BENCH_HEAP_LIVE=1: only what is still alive when the profile is taken (what is retained).
    const collected = process.env.BENCH_HEAP_LIVE !== "1";
    const params = { samplingInterval: 1024, includeObjectsCollectedByMajorGC: collected, includeObjectsCollectedByMinorGC: collected };
    toggleOnSignal(heapFile, (s) => s.post("HeapProfiler.enable", () => s.post("HeapProfiler.startSampling", params as object)), "HeapProfiler.stopSampling");
  } else if (file) {
    toggleOnSignal(file, (s) => s.post("Profiler.enable", () => s.post("Profiler.start")), "Profiler.stop");
  }
}

/** The first SIGUSR2 starts a profiler through an inspector session, the next writes its profile to `file`. */
function toggleOnSignal(file: string, start: (session: Session) => void, stopMethod: "Profiler.stop" | "HeapProfiler.stopSampling"): void {
  let session: Session | null = null;
  process.on("SIGUSR2", () => {
    if (session === null) {
      session = new Session();
      session.connect();
      start(session);
      return;
    }
    const s = session;
    session = null;
    s.post(stopMethod, (err: Error | null, result?: { profile: object }) => {
      if (!err && result) writeFileSync(file, JSON.stringify(result.profile));
      s.disconnect();
    });
  });
}
