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
  if (heapFile) return installHeapSampler(heapFile);
  if (!file) return;
  let session: Session | null = null;
  process.on("SIGUSR2", () => {
    if (session === null) {
      const s = new Session();
      session = s;
      s.connect();
      s.post("Profiler.enable", () => s.post("Profiler.start"));
      return;
    }
    const s = session;
    session = null;
    s.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      s.disconnect();
    });
  });
}

function installHeapSampler(file: string): void {
  let session: Session | null = null;
  process.on("SIGUSR2", () => {
    if (session === null) {
      const s = new Session();
      session = s;
      s.connect();
      // BENCH_HEAP_LIVE=1: only what is still alive when the profile is taken (what is retained).
      const collected = process.env.BENCH_HEAP_LIVE !== "1";
      const params = { samplingInterval: 1024, includeObjectsCollectedByMajorGC: collected, includeObjectsCollectedByMinorGC: collected };
      s.post("HeapProfiler.enable", () => s.post("HeapProfiler.startSampling", params as object));
      return;
    }
    const s = session;
    session = null;
    s.post("HeapProfiler.stopSampling", (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      s.disconnect();
    });
  });
}
