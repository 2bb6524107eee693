/**
 * Where a window's allocations come from: a sampling allocation profile (objects the GC already
 * collected included), as self bytes per function per request, largest first.
 */
import { Session } from "node:inspector";

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** A sampling allocation profile over one window (collected objects included): self bytes per function. */
export async function allocationSites(run: () => Promise<{ requests: number }> | { requests: number }, top: number, root: string): Promise<{ site: string; bytes: number }[]> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await run();
  const { profile } = (await post("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
  session.disconnect();
  const bySite = new Map<string, number>();
  const walk = (node: SamplingNode) => {
    if (node.selfSize > 0) {
      const f = node.callFrame;
      const file = f.url.replace(/^file:\/\//, "").replace(`${root}/`, "").replace(/^.*node_modules\//, "");
      const site = `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return [...bySite].map(([site, bytes]) => ({ site, bytes: bytes / result.requests })).sort((a, b) => b.bytes - a.bytes).slice(0, top);
}

