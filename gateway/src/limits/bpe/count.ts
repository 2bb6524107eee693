/**
 * Counts the tokens of a text with byte-pair encoding, as tiktoken does: the text is split into
 * pieces by the encoding's regex, a piece that is itself a token counts one, any other piece is
 * merged pair by pair, lowest rank first, and counts its parts. Special-token text
 * (`<|endoftext|>`) is ordinary text here. Counting never builds the token list.
 */
import type { PieceSplitter } from "./ascii-split";
import type { RankTable } from "./rank-table";

const MAX_CACHED_PIECES = 16_384;
const MAX_CACHED_PIECE = 64;

export class BpeCounter {
  /**
   * Counts of recent pieces that needed merging (or were not ASCII): they recur across texts, and
   * a Map hit is cheaper than merging again. Bounded: cleared when full.
   */
  private readonly pieceCounts = new Map<string, number>();
  /** UTF-8 of the current piece; grown when a piece is longer. */
  private scratch = Buffer.allocUnsafe(1024);
  /** Part boundaries and the rank of each adjacent pair, reused across pieces. */
  private bounds = new Int32Array(1025);
  private pairRanks = new Float64Array(1025);

  constructor(
    private readonly table: RankTable,
    private readonly split: PieceSplitter,
  ) {}

  count(text: string): number {
    const split = this.split;
    let tokens = 0;
    for (let pos = 0; split.next(text, pos); pos = split.end) {
      // Most pieces are ASCII words that are tokens themselves: their bytes are their char codes,
      // looked up without making a string.
      const length = split.end - split.start;
      if (length * 3 > this.scratch.length) this.grow(length * 3);
      const bytes = this.scratch;
      let n = 0;
      for (let i = split.start; n < length; i++, n++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        bytes[n] = code;
      }
      if (n === length && this.table.rankOf(bytes, 0, n) >= 0) {
        tokens++;
        continue;
      }
      const piece = text.slice(split.start, split.end);
      const known = this.pieceCounts.get(piece);
      if (known !== undefined) {
        tokens += known;
        continue;
      }
      const count = this.countPiece(piece);
      if (piece.length <= MAX_CACHED_PIECE) {
        if (this.pieceCounts.size >= MAX_CACHED_PIECES) this.pieceCounts.clear();
        this.pieceCounts.set(piece, count);
      }
      tokens += count;
    }
    return tokens;
  }

  /** A piece that is not itself a token (or not ASCII): encoded, then merged. */
  private countPiece(piece: string): number {
    if (piece.length * 3 > this.scratch.length) this.grow(piece.length * 3);
    const bytes = this.scratch;
    // Buffer replaces lone surrogates with U+FFFD, as TextEncoder and tiktoken do.
    const n = bytes.write(piece, 0, "utf8");
    if (this.table.rankOf(bytes, 0, n) >= 0) return 1;
    if (n === 1) return 1; // every single byte is a token
    // parts: [bounds[i], bounds[i + 1]); pairRanks[i]: rank of parts i and i + 1 joined.
    const bounds = this.bounds;
    const ranks = this.pairRanks;
    let parts = n;
    for (let i = 0; i <= n; i++) bounds[i] = i;
    for (let i = 0; i < n - 1; i++) ranks[i] = this.pairRank(bytes, bounds[i], bounds[i + 2]);
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
      ranks[at] = at + 1 < parts ? this.pairRank(bytes, bounds[at], bounds[at + 2]) : Infinity;
      if (at > 0) ranks[at - 1] = this.pairRank(bytes, bounds[at - 1], bounds[at + 1]);
    }
    return parts;
  }

  private pairRank(bytes: Uint8Array, start: number, end: number): number {
    const rank = this.table.rankOf(bytes, start, end);
    return rank < 0 ? Infinity : rank;
  }

  private grow(size: number): void {
    this.scratch = Buffer.allocUnsafe(size);
    this.bounds = new Int32Array(size + 1);
    this.pairRanks = new Float64Array(size + 1);
  }
}
