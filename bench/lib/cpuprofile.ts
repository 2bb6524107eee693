/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self and total time per function, and
 * self time per package or Node subsystem, as DevTools computes them (a sample lasts until the
 * next one). Percentages are of busy time: everything but (idle).
 */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

export interface FunctionCost {
  name: string;
  /** file:line, relative to the package or the repository. */
  location: string;
  group: string;
  selfMs: number;
  totalMs: number;
  selfPct: number;
  totalPct: number;
}

export interface GroupCost {
  group: string;
  selfMs: number;
  pct: number;
}

export interface ProfileSummary {
  /** Sampled time, idle included. */
  totalMs: number;
  busyMs: number;
  idleMs: number;
  functions: FunctionCost[];
  groups: GroupCost[];
}

/** Which package or subsystem a frame belongs to. */
export function groupOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "gc";
  if (functionName === "(idle)") return "idle";
  if (functionName === "(program)" || functionName === "(root)") return "program";
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.includes("/gateway/src/")) return "gateway";
  if (url.includes("/bench/")) return "bench";
  if (url.startsWith("node:")) {
    const mod = url.slice(5);
    if (/^_http|^http|internal\/http/.test(mod)) return "node:http";
    if (/^net|internal\/net|internal\/stream_base|^stream|internal\/streams/.test(mod)) return "node:net+streams";
    if (/internal\/timers|^timers/.test(mod)) return "node:timers";
    if (/internal\/process\/task_queues|internal\/async_hooks|^events|internal\/event_target/.test(mod)) return "node:events+microtasks";
    if (/internal\/crypto|^crypto/.test(mod)) return "node:crypto";
    if (/internal\/perf|perf_hooks/.test(mod)) return "node:perf_hooks";
    return "node:other";
  }
  return url === "" ? "native" : "other";
}

function locationOf(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, "");
  const short = url.replace(/^.*\/node_modules\//, "").replace(/^.*\/dist\//, "");
  return short ? `${short}:${frame.lineNumber + 1}` : "";
}

function keyOf(frame: CallFrame): string {
  return `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`;
}

export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const self = new Map<number, number>();
  let t = profile.startTime;
  const stamps: number[] = [];
  for (const delta of profile.timeDeltas) stamps.push((t += delta));
  for (let i = 0; i < profile.samples.length; i++) {
    const duration = (i + 1 < stamps.length ? stamps[i + 1] : profile.endTime) - stamps[i];
    if (duration > 0) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + duration);
  }

  // Inclusive time per node, then per function without double-counting recursion.
  const inclusive = new Map<number, number>();
  const root = profile.nodes[0];
  const order: ProfileNode[] = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    order.push(node);
    for (const child of node.children ?? []) stack.push(byId.get(child)!);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    let sum = self.get(node.id) ?? 0;
    for (const child of node.children ?? []) sum += inclusive.get(child) ?? 0;
    inclusive.set(node.id, sum);
  }
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  const onStack = new Map<string, number>();
  const walk = (node: ProfileNode) => {
    const key = keyOf(node.callFrame);
    frames.set(key, node.callFrame);
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + (self.get(node.id) ?? 0));
    const depth = onStack.get(key) ?? 0;
    if (depth === 0) fnTotal.set(key, (fnTotal.get(key) ?? 0) + (inclusive.get(node.id) ?? 0));
    onStack.set(key, depth + 1);
    for (const child of node.children ?? []) walk(byId.get(child)!);
    onStack.set(key, depth);
  };
  walk(root);

  let totalUs = 0;
  let idleUs = 0;
  const groups = new Map<string, number>();
  for (const [key, us] of fnSelf) {
    totalUs += us;
    const group = groupOf(frames.get(key)!);
    if (group === "idle") idleUs += us;
    groups.set(group, (groups.get(group) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const functions: FunctionCost[] = [...fnSelf.keys()]
    .map((key) => {
      const frame = frames.get(key)!;
      const s = fnSelf.get(key) ?? 0;
      const total = fnTotal.get(key) ?? 0;
      return { name: frame.functionName || "(anonymous)", location: locationOf(frame), group: groupOf(frame), selfMs: s / 1000, totalMs: total / 1000, selfPct: pct(s), totalPct: pct(total) };
    })
    .filter((f) => f.group !== "idle" && f.name !== "(root)")
    .sort((a, b) => b.selfMs - a.selfMs);
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions,
    groups: [...groups.entries()].filter(([g]) => g !== "idle").map(([group, us]) => ({ group, selfMs: us / 1000, pct: pct(us) })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/**
 * The summary as Markdown: the top functions by self time, and time per package; with
 * `requests`, also µs per request (sampled wall time while on the thread, so a syscall that
 * lets the scheduler run the peer process, as loopback writev does, counts its wait too).
 */
export function renderProfile(summary: ProfileSummary, top: number, title: string, requests = 0): string {
  const perReq = (ms: number) => (requests > 0 ? ` ${((ms * 1000) / requests).toFixed(1)} |` : "");
  const head = requests > 0 ? " µs/req |" : "";
  const rule = requests > 0 ? "---:|" : "";
  const out = [`## ${title}`, "", `Sampled ${summary.totalMs.toFixed(0)} ms, busy ${summary.busyMs.toFixed(0)} ms (idle ${summary.idleMs.toFixed(0)} ms). Percentages are of busy time.`, ""];
  out.push(`| Self % |${head} Total % | Function | Where | Group |`, `|---:|${rule}---:|---|---|---|`);
  for (const f of summary.functions.slice(0, top)) out.push(`| ${f.selfPct.toFixed(1)} |${perReq(f.selfMs)} ${f.totalPct.toFixed(1)} | ${f.name} | ${f.location} | ${f.group} |`);
  out.push("", `| Group (self time) | % |${head}`, `|---|---:|${rule}`);
  for (const g of summary.groups) out.push(`| ${g.group} | ${g.pct.toFixed(1)} |${perReq(g.selfMs)}`);
  out.push("");
  return out.join("\n");
}

/** Total % of the named functions (gateway hot-path landmarks), for the report. */
export function totalsOf(summary: ProfileSummary, names: string[]): { name: string; totalPct: number; selfPct: number; totalMs: number }[] {
  return names.map((name) => {
    const matching = summary.functions.filter((f) => f.name === name && f.group === "gateway");
    const best = matching.reduce<FunctionCost | null>((b, f) => (b === null || f.totalPct > b.totalPct ? f : b), null);
    return { name, totalPct: best?.totalPct ?? 0, totalMs: best?.totalMs ?? 0, selfPct: matching.reduce((s, f) => s + f.selfPct, 0) };
  });
}
