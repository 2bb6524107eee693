/**
 * Byte-pair merging of one piece: repeatedly join the adjacent pair of parts whose joined bytes
 * have the lowest rank (the leftmost on a tie) until no joined pair is a token; the parts left
 * are the piece's tokens. Two implementations of the same rule:
 *  - a scan of every pair per merge, O(n²), the fastest for the short pieces of normal text;
 *  - a heap of candidate pairs, O(n log n), for long pieces. Without it one 100 KB word (a
 *    base64 blob, a run of one letter) held the event loop for 7 s, and a 10 MB body for hours.
 */
import type { RankTable } from "./rank-table";

/** Pieces up to this many bytes are merged by scanning. */
const SCAN_MAX_BYTES = 64;

/** Tokens of bytes[0, n), n ≥ 1. */
export function mergedTokenCount(table: RankTable, bytes: Uint8Array, n: number): number {
  return n <= SCAN_MAX_BYTES ? mergeByScan(table, bytes, n) : mergeByHeap(table, bytes, n);
}

function pairRank(table: RankTable, bytes: Uint8Array, start: number, end: number): number {
  const rank = table.rankOf(bytes, start, end);
  return rank < 0 ? Infinity : rank;
}

export function mergeByScan(table: RankTable, bytes: Uint8Array, n: number): number {
  // parts: [bounds[i], bounds[i + 1]); ranks[i]: rank of parts i and i + 1 joined.
  const bounds = new Int32Array(n + 1);
  const ranks = new Float64Array(n);
  let parts = n;
  for (let i = 0; i <= n; i++) bounds[i] = i;
  for (let i = 0; i < n - 1; i++) ranks[i] = pairRank(table, bytes, i, i + 2);
  ranks[n - 1] = Infinity;
  while (parts > 1) {
    let lowest = Infinity;
    let at = -1;
    for (let i = 0; i < parts - 1; i++) {
      if (ranks[i] < lowest) {
        lowest = ranks[i];
        at = i;
      }
    }
    if (at < 0) break;
    // Join part at + 1 into part at.
    bounds.copyWithin(at + 1, at + 2, parts + 1);
    ranks.copyWithin(at + 1, at + 2, parts - 1);
    parts--;
    ranks[at] = at + 1 < parts ? pairRank(table, bytes, bounds[at], bounds[at + 2]) : Infinity;
    if (at > 0) ranks[at - 1] = pairRank(table, bytes, bounds[at - 1], bounds[at + 1]);
  }
  return parts;
}

/**
 * Parts are a linked list of their start offsets; the heap holds (rank, start, version) for the
 * pair a part makes with the next one. An entry whose part has merged or changed since it was
 * pushed is stale and skipped. Ordering by (rank, start) is the scan's leftmost-lowest rule.
 */
export function mergeByHeap(table: RankTable, bytes: Uint8Array, n: number): number {
  const next = new Int32Array(n); // start of the following part, n for the last
  const prev = new Int32Array(n); // start of the preceding part, -1 for the first
  const version = new Int32Array(n); // bumped whenever the part or its right neighbour changes
  const alive = new Uint8Array(n).fill(1);
  const heap = new PairHeap(3 * n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  const push = (start: number) => {
    const right = next[start];
    if (right >= n) return;
    const rank = table.rankOf(bytes, start, next[right]);
    if (rank >= 0) heap.push(rank, start, version[start]);
  };
  for (let i = 0; i < n - 1; i++) push(i);
  let parts = n;
  while (heap.size > 0) {
    heap.pop();
    const start = heap.poppedStart;
    if (!alive[start] || version[start] !== heap.poppedVersion) continue;
    const right = next[start];
    alive[right] = 0;
    next[start] = next[right];
    if (next[right] < n) prev[next[right]] = start;
    parts--;
    version[start]++;
    push(start);
    const left = prev[start];
    if (left >= 0) {
      version[left]++;
      push(left);
    }
  }
  return parts;
}

/** A binary min-heap of (rank, start, version), ordered by rank then start. */
class PairHeap {
  private readonly ranks: Float64Array;
  private readonly starts: Int32Array;
  private readonly versions: Int32Array;
  size = 0;
  poppedStart = 0;
  poppedVersion = 0;

  constructor(capacity: number) {
    this.ranks = new Float64Array(capacity);
    this.starts = new Int32Array(capacity);
    this.versions = new Int32Array(capacity);
  }

  private less(a: number, b: number): boolean {
    return this.ranks[a] < this.ranks[b] || (this.ranks[a] === this.ranks[b] && this.starts[a] < this.starts[b]);
  }

  private swap(a: number, b: number): void {
    const r = this.ranks[a];
    this.ranks[a] = this.ranks[b];
    this.ranks[b] = r;
    const s = this.starts[a];
    this.starts[a] = this.starts[b];
    this.starts[b] = s;
    const v = this.versions[a];
    this.versions[a] = this.versions[b];
    this.versions[b] = v;
  }

  push(rank: number, start: number, version: number): void {
    let i = this.size++;
    this.ranks[i] = rank;
    this.starts[i] = start;
    this.versions[i] = version;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the least entry into poppedStart / poppedVersion. */
  pop(): void {
    this.poppedStart = this.starts[0];
    this.poppedVersion = this.versions[0];
    const last = --this.size;
    if (last > 0) {
      this.ranks[0] = this.ranks[last];
      this.starts[0] = this.starts[last];
      this.versions[0] = this.versions[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let least = i;
        if (l < last && this.less(l, least)) least = l;
        if (r < last && this.less(r, least)) least = r;
        if (least === i) break;
        this.swap(i, least);
        i = least;
      }
    }
  }
}
