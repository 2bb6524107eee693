/** tallyDeltas before its needle lost the leading quote (commit 9116086), verbatim: the oracle for sse-relay-oracle.test.ts. */

/** The fields tallyDeltas looks for, as one pattern: `"name":`, optional spaces, an opening quote. */
export interface DeltaFields {
  readonly pattern: RegExp;
}

/** The matcher for some field names (another dialect's fields). */
export function referenceFieldKeys(names: readonly string[]): DeltaFields {
  const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return { pattern: new RegExp(`"(?:${escaped.join("|")})": *"`, "g") };
}

const FIELDS = referenceFieldKeys(["content", "text", "refusal", "reasoning_content", "arguments"]);

/** Generated text seen so far: string values, and their bytes (escapes count as written). */
export interface DeltaTally {
  pieces: number;
  bytes: number;
}

/** Adds the string values of the generated-text fields in `data[from, to)` to `tally`. */
export function referenceTallyDeltas(data: Buffer, from: number, to: number, tally: DeltaTally, fields: DeltaFields = FIELDS): void {
  const text = data.toString("latin1", from, to);
  const pattern = fields.pattern;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    // The value runs to the next unescaped quote (or the end of what is here).
    let i = pattern.lastIndex;
    const start = i;
    while (i < text.length && text.charCodeAt(i) !== 0x22 /* " */) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
    if (i > start) {
      tally.pieces++;
      tally.bytes += Math.min(i, text.length) - start;
    }
    pattern.lastIndex = i;
  }
}

/**
 * Tokens for a tally: a streamed delta is usually one token, and no token is shorter than
 * about 4 bytes of English on average; the larger of the two is charged.
 */
export function referenceTokensOfTally(tally: DeltaTally): number {
  return Math.max(tally.pieces, Math.ceil(tally.bytes / 4));
}
