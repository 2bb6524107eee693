/**
 * The SSE usage filter and event scanner as they were before the per-chunk fast paths (commit
 * 9116086), kept verbatim as the oracle the rewritten ones are checked against
 * (sse-relay-oracle.test.ts): same bytes out, same usage, same delivered count.
 */

const LF = 0x0a;
const CR = 0x0d;

export class ReferenceSseEventScanner {
  /** The last byte seen ended a line (or nothing was seen yet): a line ending now is an empty line. */
  private atLineStart = true;
  /** The last byte seen was a CR: an LF right after it belongs to the same line ending. */
  private afterCR = false;

  /**
   * Scans `chunk` (the bytes after everything scanned before) and returns the end (exclusive,
   * in `chunk`) of the last event completed in it, or -1. `ends`, when given, receives every end.
   */
  scan(chunk: Buffer, ends?: number[]): number {
    let last = -1;
    let i = 0;
    let nextLF = chunk.indexOf(LF);
    let nextCR = chunk.indexOf(CR);
    while (nextLF !== -1 || nextCR !== -1) {
      const pos = nextCR === -1 || (nextLF !== -1 && nextLF < nextCR) ? nextLF : nextCR;
      if (pos > i) {
        this.atLineStart = false;
        this.afterCR = false;
      }
      const byte = chunk[pos];
      if (byte === LF) nextLF = chunk.indexOf(LF, pos + 1);
      else nextCR = chunk.indexOf(CR, pos + 1);
      i = pos + 1;
      if (byte === LF && this.afterCR) {
        // The LF of a CRLF: no new line ending, but it belongs to an event that ended on the CR.
        this.afterCR = false;
        if (last === pos) {
          last = i;
          if (ends) ends[ends.length - 1] = i;
        }
        continue;
      }
      this.afterCR = byte === CR;
      if (this.atLineStart) {
        last = i;
        ends?.push(i);
      }
      this.atLineStart = true;
    }
    if (i < chunk.length) {
      this.atLineStart = false;
      this.afterCR = false;
    }
    return last;
  }
}

/** Every event end (exclusive) in a buffer that starts at an event start. */
export function referenceEventEnds(data: Buffer): number[] {
  const ends: number[] = [];
  new ReferenceSseEventScanner().scan(data, ends);
  return ends;
}
