/**
 * Counts the tokens of a text with byte-pair encoding, as tiktoken does: the text is split into
 * pieces by the encoding's regex, a piece that is itself a token counts one, any other piece is
 * merged pair by pair, lowest rank first (./merge.ts), and counts its parts. Special-token text
 * (`<|endoftext|>`) is ordinary text here. Counting never builds the token list.
 */
import type { PieceSplitter } from "./ascii-split";
import { mergedTokenCount } from "./merge";
import { FNV_OFFSET, fnvStep, type RankTable } from "./rank-table";

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

  constructor(
    private readonly table: RankTable,
    private readonly split: PieceSplitter,
  ) {}

  count(text: string): number {
    const split = this.split;
    let tokens = 0;
    for (let pos = 0; split.next(text, pos); pos = split.end) {
      // Most pieces are ASCII words that are tokens themselves: their bytes are their char codes,
      // copied and hashed in one pass and looked up without making a string.
      const length = split.end - split.start;
      if (length * 3 > this.scratch.length) this.grow(length * 3);
      const bytes = this.scratch;
      let n = 0;
      let hash = FNV_OFFSET;
      for (let i = split.start; n < length; i++, n++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        bytes[n] = code;
        hash = fnvStep(hash, code);
      }
      const ascii = n === length;
      if (ascii && this.table.rankOfHashed(bytes, 0, n, hash >>> 0) >= 0) {
        tokens++;
        continue;
      }
      const piece = text.slice(split.start, split.end);
      const known = this.pieceCounts.get(piece);
      if (known !== undefined) {
        tokens += known;
        continue;
      }
      // An ASCII piece's bytes are still in scratch, and it is known not to be one token.
      const count = ascii ? mergedTokenCount(this.table, bytes, n) : this.countEncoded(piece);
      if (piece.length <= MAX_CACHED_PIECE) {
        if (this.pieceCounts.size >= MAX_CACHED_PIECES) this.pieceCounts.clear();
        this.pieceCounts.set(piece, count);
      }
      tokens += count;
    }
    return tokens;
  }

  /** A piece with non-ASCII characters: encoded, then one token or merged. */
  private countEncoded(piece: string): number {
    if (piece.length * 3 > this.scratch.length) this.grow(piece.length * 3);
    const bytes = this.scratch;
    // Buffer replaces lone surrogates with U+FFFD, as TextEncoder and tiktoken do.
    const n = bytes.write(piece, 0, "utf8");
    if (this.table.rankOf(bytes, 0, n) >= 0) return 1;
    if (n === 1) return 1; // every single byte is a token
    return mergedTokenCount(this.table, bytes, n);
  }

  private grow(size: number): void {
    this.scratch = Buffer.allocUnsafe(size);
  }
}
