/**
 * Counts the generated text in SSE events as they pass (`content`, `text`, `refusal`,
 * `reasoning_content` and tool-call `arguments` string values), without parsing the JSON: the
 * gateway's own count of what the client received, charged when the upstream's usage never
 * arrives (client closed early, stream cut, no usage sent). Byte searches only, linear in the
 * events' size.
 */
const FIELDS = fieldKeys(["content", "text", "refusal", "reasoning_content", "arguments"]);

/** The byte patterns tallyDeltas looks for, from field names (another dialect's fields). */
export function fieldKeys(names: readonly string[]): readonly Buffer[] {
  return names.map((name) => Buffer.from(`"${name}":`));
}

/** Generated text seen so far: string values, and their bytes (escapes count as written). */
export interface DeltaTally {
  pieces: number;
  bytes: number;
}

/** Adds the string values of the generated-text fields in `data[from, to)` to `tally`. */
export function tallyDeltas(data: Buffer, from: number, to: number, tally: DeltaTally, fields: readonly Buffer[] = FIELDS): void {
  for (const field of fields) {
    let at = data.indexOf(field, from);
    while (at !== -1 && at < to) {
      let i = at + field.length;
      while (i < to && data[i] === 0x20) i++;
      if (data[i] === 0x22 /* " */) {
        const start = ++i;
        while (i < to && data[i] !== 0x22) i += data[i] === 0x5c /* \ */ ? 2 : 1;
        if (i > start) {
          tally.pieces++;
          tally.bytes += i - start;
        }
      }
      at = data.indexOf(field, i);
    }
  }
}

/**
 * Tokens for a tally: a streamed delta is usually one token, and no token is shorter than
 * about 4 bytes of English on average; the larger of the two is charged.
 */
export function tokensOfTally(tally: DeltaTally): number {
  return Math.max(tally.pieces, Math.ceil(tally.bytes / 4));
}
