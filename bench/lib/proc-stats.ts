/**
 * CPU time and memory of a process and its descendants, from /proc (Linux): utime+stime from
 * /proc/PID/stat before and after a run, and resident memory polled from /proc/PID/status.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | null = null;

/** Clock ticks per second of the stat counters (CLK_TCK, 100 on Linux unless configured otherwise). */
export function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Parses /proc/PID/stat text: ppid, and user+system CPU in ticks. The command may contain spaces and ')'. */
export function parseStat(text: string): { ppid: number; ticks: number } {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** Parses a `VmRSS:`/`VmHWM:` line of /proc/PID/status, in kB; null when absent (a zombie). */
export function parseStatusKb(text: string, field: "VmRSS" | "VmHWM"): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) : null;
}

function readStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** The process and every descendant alive now (a cluster primary and its workers). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const siblings = parents.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else parents.set(stat.ppid, [pid]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]) ?? []));
  return tree;
}

/** CPU seconds (user + system) used so far by these processes. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / ticksPerSecond();
}

/** Resident memory now, summed over the processes, in bytes. */
export function rssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += parseStatusKb(readFileSync(`/proc/${pid}/status`, "utf8"), "VmRSS") ?? 0;
    } catch {
      // exited
    }
  }
  return kb * 1024;
}

/** Peak resident memory since start (VmHWM), summed over the processes, in bytes. */
export function peakRssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += parseStatusKb(readFileSync(`/proc/${pid}/status`, "utf8"), "VmHWM") ?? 0;
    } catch {
      // exited
    }
  }
  return kb * 1024;
}

export interface Usage {
  cpuSeconds: number;
  /** Highest summed VmRSS seen while sampling, in bytes. */
  peakRssBytes: number;
}

/**
 * Samples a process tree while a run goes on: CPU at start and stop, resident memory every
 * `intervalMs` (the tree is re-read at start only: workers forked mid-run are missed).
 */
export class UsageSampler {
  private readonly pids: number[];
  private readonly startCpu: number;
  private peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor(root: number, intervalMs = 100) {
    this.pids = processTree(root);
    this.startCpu = cpuSeconds(this.pids);
    this.peak = rssBytes(this.pids);
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, rssBytes(this.pids));
    }, intervalMs);
  }

  stop(): Usage {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, rssBytes(this.pids));
    return { cpuSeconds: cpuSeconds(this.pids) - this.startCpu, peakRssBytes: this.peak };
  }
}
