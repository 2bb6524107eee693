/**
 * Finds where SSE events end, incrementally, following the SSE spec's line endings: CRLF, LF
 * or CR alone, an event ending at an empty line. Each byte is looked at once across every
 * chunk (indexOf jumps from line ending to line ending), so a big event arriving in tiny
 * pieces costs linear time, and the state carries a CR at a chunk's end over to the next.
 * A chunk that ends with a blank line (`\n\n`, how every SSE server writes its events) ends an
 * event at its last byte whatever it holds before: then nothing is scanned at all.
 */

const LF = 0x0a;
const CR = 0x0d;

export class SseEventScanner {
  /** The last byte seen ended a line (or nothing was seen yet): a line ending now is an empty line. */
  private atLineStart = true;
  /** The last byte seen was a CR: an LF right after it belongs to the same line ending. */
  private afterCR = false;

  /**
   * Scans `chunk` (the bytes after everything scanned before) and returns the end (exclusive,
   * in `chunk`) of the last event completed in it, or -1. `ends`, when given, receives every end.
   */
  scan(chunk: Buffer, ends?: number[]): number {
    if (ends === undefined && endsWithBlankLine(chunk)) {
      // The second LF is an empty line whatever came before it (an LF, or the LF of a CRLF).
      this.atLineStart = true;
      this.afterCR = false;
      return chunk.length;
    }
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

/** The chunk's last two bytes are LF LF: its last byte ends an event. */
export function endsWithBlankLine(chunk: Buffer): boolean {
  const n = chunk.length;
  return n >= 2 && chunk[n - 1] === LF && chunk[n - 2] === LF;
}

/** Every event end (exclusive) in a buffer that starts at an event start. */
export function eventEnds(data: Buffer): number[] {
  const ends: number[] = [];
  new SseEventScanner().scan(data, ends);
  return ends;
}
