/**
 * The BPE vocabulary as two typed arrays instead of a Map of 200,000 strings: every token's bytes
 * in one buffer, and an open-addressing hash index from bytes to rank. Loaded from the
 * `.tiktoken` file (one "base64 rank" line per token) that gpt-tokenizer ships, it costs about
 * 4 MB and no JavaScript parse of a 2 MB array literal, which left ~60 MB of RSS behind.
 */
import { readFileSync } from "node:fs";

const NEWLINE = 0x0a;
const SPACE = 0x20;

/** FNV-1a's starting value and one step: a caller that copies a piece's bytes can hash them in the same pass. */
export const FNV_OFFSET = 0x811c9dc5;
export function fnvStep(h: number, byte: number): number {
  return Math.imul(h ^ byte, 0x01000193);
}

/** FNV-1a over bytes[start, end): cheap, and spreads the short keys of a vocabulary well. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

export class RankTable {
  /** Rank r's bytes are tokenBytes[starts[r], starts[r + 1]). */
  private readonly tokenBytes: Uint8Array;
  private readonly starts: Uint32Array;
  /** Slot → rank + 1 (0: empty), linear probing. */
  private readonly index: Int32Array;
  private readonly mask: number;

  constructor(tokenBytes: Uint8Array, starts: Uint32Array) {
    this.tokenBytes = tokenBytes;
    this.starts = starts;
    const count = starts.length - 1;
    let size = 1;
    while (size < count * 2) size <<= 1; // load factor at most 1/2
    this.index = new Int32Array(size);
    this.mask = size - 1;
    for (let rank = 0; rank < count; rank++) {
      let slot = hashBytes(tokenBytes, starts[rank], starts[rank + 1]) & this.mask;
      while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
      this.index[slot] = rank + 1;
    }
  }

  get size(): number {
    return this.starts.length - 1;
  }

  /** The rank of bytes[start, end), or -1 when it is not a token. */
  rankOf(bytes: Uint8Array, start: number, end: number): number {
    return this.rankOfHashed(bytes, start, end, hashBytes(bytes, start, end));
  }

  /** rankOf() with the bytes' FNV-1a hash already computed (FNV_OFFSET folded with fnvStep over them, then >>> 0). */
  rankOfHashed(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const length = end - start;
    let slot = hash & this.mask;
    for (;;) {
      const entry = this.index[slot];
      if (entry === 0) return -1;
      const rank = entry - 1;
      const from = this.starts[rank];
      if (this.starts[rank + 1] - from === length) {
        let i = 0;
        while (i < length && this.tokenBytes[from + i] === bytes[start + i]) i++;
        if (i === length) return rank;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}

/**
 * Parses a `.tiktoken` file: lines "<base64 bytes> <rank>", ranks 0..n-1 in order (checked,
 * since a gap or a shuffle would silently shift every count).
 */
export function parseTiktoken(file: Uint8Array): RankTable {
  // Every line holds at least one base64 byte per rank: the file's size bounds both arrays.
  const tokenBytes = new Uint8Array(file.length);
  const starts: number[] = [];
  let at = 0;
  let lineStart = 0;
  while (lineStart < file.length) {
    let lineEnd = file.indexOf(NEWLINE, lineStart);
    if (lineEnd < 0) lineEnd = file.length;
    if (lineEnd > lineStart) {
      const space = file.indexOf(SPACE, lineStart);
      if (space < 0 || space > lineEnd) throw new Error(`tiktoken file: no rank on line ${starts.length + 1}`);
      const rank = Number(String.fromCharCode(...file.subarray(space + 1, lineEnd)));
      if (rank !== starts.length) throw new Error(`tiktoken file: rank ${rank} where ${starts.length} was expected`);
      starts.push(at);
      at = decodeBase64(file, lineStart, space, tokenBytes, at);
    }
    lineStart = lineEnd + 1;
  }
  starts.push(at);
  return new RankTable(tokenBytes.slice(0, at), Uint32Array.from(starts));
}

const BASE64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) BASE64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;

/** Decodes base64 src[start, end) into out at `at`; returns the end offset. Stops at "=". */
function decodeBase64(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  let bits = 0;
  let held = 0;
  for (let i = start; i < end; i++) {
    const value = BASE64[src[i]];
    if (value < 0) {
      if (src[i] === 0x3d) break; // "=" padding
      throw new Error("tiktoken file: a token is not base64");
    }
    bits = (bits << 6) | value;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[at++] = (bits >> held) & 0xff;
    }
  }
  return at;
}

export function loadTiktokenFile(path: string): RankTable {
  return parseTiktoken(readFileSync(path));
}
