/**
 * The o200k_base split regex, hand-evaluated for ASCII text: the regex engine (Unicode property
 * classes, one match object per piece) is most of the cost of counting a new prompt. At `pos`
 * this returns where the regex's match would end, or -1 whenever a character it would have to
 * look at is not ASCII (a Unicode letter, digit, mark or space could change the match): the
 * caller then asks the regex itself. The alternatives, in the regex's order:
 *   1/2. an optional non-letter/digit/newline, then uppercase* lowercase+ or uppercase+ lowercase*,
 *        then an optional contraction ('s 'd 'm 't 'll 've 're, any case)
 *   3. one to three digits
 *   4. an optional space, non-space non-letter non-digit characters, then \r \n or / characters
 *   5. whitespace up to and including its last run of newlines
 *   6. whitespace not followed by a non-space (all but the last whitespace character before one)
 *   7. whitespace
 */

const NOT_ASCII = -1;

// Character classes of the ASCII range, as bit flags.
const UPPER = 1;
const LOWER = 2;
const DIGIT = 4;
const SPACE = 8; // \s
const NEWLINE = 16; // \r \n
const OTHER = 32; // neither \s, letter nor digit
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 65 && c <= 90) CLASS[c] = UPPER;
  else if (c >= 97 && c <= 122) CLASS[c] = LOWER;
  else if (c >= 48 && c <= 57) CLASS[c] = DIGIT;
  else if (c === 10 || c === 13) CLASS[c] = SPACE | NEWLINE;
  else if (c === 9 || c === 11 || c === 12 || c === 32) CLASS[c] = SPACE;
  else CLASS[c] = OTHER;
}

/** The class of text[i]; 0 past the end; NOT_ASCII for anything else. */
function classAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const code = text.charCodeAt(i);
  return code < 128 ? CLASS[code] : NOT_ASCII;
}

/** Alternatives 1/2 from `start` (after any prefix): the end, 0 when no letter starts there. */
function wordEnd(text: string, start: number): number {
  let i = start;
  let cls = classAt(text, i);
  if (cls === NOT_ASCII) return NOT_ASCII;
  if ((cls & (UPPER | LOWER)) === 0) return 0;
  while (cls === UPPER) cls = classAt(text, ++i);
  while (cls === LOWER) cls = classAt(text, ++i);
  // A non-ASCII letter or mark could continue either run.
  if (cls === NOT_ASCII) return NOT_ASCII;
  return i + contractionLength(text, i);
}

function contractionLength(text: string, i: number): number {
  if (text.charCodeAt(i) !== 39) return 0; // '
  const a = text.charCodeAt(i + 1) | 0x20; // lower-cased when a letter
  if (a === 115 || a === 100 || a === 109 || a === 116) return 2; // s d m t
  const b = text.charCodeAt(i + 2) | 0x20;
  if ((a === 108 && b === 108) || (a === 118 && b === 101) || (a === 114 && b === 101)) return 3; // ll ve re
  return 0;
}

export function o200kAsciiPieceEnd(text: string, pos: number): number {
  const cls = classAt(text, pos);
  if (cls === NOT_ASCII || cls === 0) return NOT_ASCII;

  // 1/2: a word, with one leading character that is not a letter, digit or newline.
  if ((cls & (UPPER | LOWER)) !== 0) return wordEnd(text, pos);
  if ((cls & (DIGIT | NEWLINE)) === 0) {
    const end = wordEnd(text, pos + 1);
    if (end !== 0) return end; // a word, or NOT_ASCII
  }

  // 3: up to three digits.
  if (cls === DIGIT) {
    let i = pos + 1;
    while (i < pos + 3 && classAt(text, i) === DIGIT) i++;
    return i < pos + 3 && classAt(text, i) === NOT_ASCII ? NOT_ASCII : i;
  }

  // 4: an optional space, then a run of OTHER, then \r \n and /.
  let run = pos;
  if (text.charCodeAt(pos) === 32) {
    const next = classAt(text, pos + 1);
    if (next === NOT_ASCII) return NOT_ASCII;
    if (next === OTHER) run = pos + 1;
  }
  if (classAt(text, run) === OTHER) {
    let i = run;
    let next = classAt(text, i);
    while (next === OTHER) next = classAt(text, ++i);
    if (next === NOT_ASCII) return NOT_ASCII;
    for (let c = text.charCodeAt(i); c === 13 || c === 10 || c === 47; c = text.charCodeAt(++i));
    return i;
  }

  // 5-7: whitespace. Its run must end in ASCII (Unicode spaces would extend it).
  let end = pos;
  let lastNewline = -1;
  let next = cls;
  while (next !== 0 && next !== NOT_ASCII && (next & SPACE) !== 0) {
    if ((next & NEWLINE) !== 0) lastNewline = end;
    next = classAt(text, ++end);
  }
  if (next === NOT_ASCII) return NOT_ASCII;
  if (lastNewline >= 0) return lastNewline + 1; // 5
  if (end === text.length || end - pos === 1) return end; // 6 at the end of the text, else 7
  return end - 1; // 6: leave the last space to the piece that follows
}

/** Where the piece at `pos` ends, or -1 to let the regex decide. */
export type FastPieceEnd = (text: string, pos: number) => number;

/**
 * Walks the pieces of a text: `fast` (the ASCII evaluation of the same regex) where it can
 * decide, the regex where it cannot. After next() returns true, the piece is text[start, end).
 */
export class PieceSplitter {
  start = 0;
  end = 0;

  constructor(
    private readonly regex: RegExp,
    private readonly fast: FastPieceEnd | null = null,
  ) {
    if (!regex.global) throw new Error("the split regex must be global");
  }

  /** Finds the piece at or after `pos`; false when none is left. */
  next(text: string, pos: number): boolean {
    if (pos >= text.length) return false;
    const end = this.fast === null ? -1 : this.fast(text, pos);
    if (end > pos) {
      this.start = pos;
      this.end = end;
      return true;
    }
    // As String.prototype.matchAll would: the next match, skipping what no alternative matches.
    for (let from = pos; from < text.length; ) {
      this.regex.lastIndex = from;
      const match = this.regex.exec(text);
      if (match === null) return false;
      if (match[0].length > 0) {
        this.start = match.index;
        this.end = match.index + match[0].length;
        return true;
      }
      from = match.index + 1; // an empty match would loop forever
    }
    return false;
  }
}
