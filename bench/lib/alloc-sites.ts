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

/**
 * A sampling allocation profile over one window (collected objects included): self bytes per
 * function. With `stackDepth` N a site is the function and its N nearest callers: who makes the allocation.
 */
export async function allocationSites(run: () => Promise<{ requests: number }> | { requests: number }, top: number, root: string, stackDepth = 0): Promise<{ site: string; bytes: number }[]> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await run();
  const { profile } = (await post("HeapProfiler.stopSampling")) as { profile: { head: SamplingNode } };
  session.disconnect();
  const bySite = new Map<string, number>();
  const name = (f: SamplingNode["callFrame"]) => {
    const file = f.url.replace(/^file:\/\//, "").replace(`${root}/`, "").replace(/^.*node_modules\//, "");
    return `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
  };
  const walk = (node: SamplingNode, callers: string[]) => {
    if (node.selfSize > 0) {
      const site = [name(node.callFrame), ...callers.slice(-stackDepth).reverse()].join(" ← ");
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    const below = stackDepth > 0 ? [...callers, name(node.callFrame)] : callers;
    for (const child of node.children) walk(child, below);
  };
  walk(profile.head, []);
  return [...bySite].map(([site, bytes]) => ({ site, bytes: bytes / result.requests })).sort((a, b) => b.bytes - a.bytes).slice(0, top);
}
