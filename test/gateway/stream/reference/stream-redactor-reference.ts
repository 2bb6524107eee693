/** StreamRedactor before its O(1) tail check (commit 9116086), verbatim: the oracle for sse-relay-oracle.test.ts. */
import { redactRaw, type TargetSecret } from "../../../../gateway/src/upstream/redact";

export class ReferenceStreamRedactor {
  private held: Buffer | null = null;

  constructor(private readonly secrets: readonly TargetSecret[]) {}

  push(chunk: Buffer): Buffer {
    if (this.secrets.length === 0) return chunk;
    const data = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    const out = redactRaw(data, this.secrets);
    const keep = this.partialSecretAtEnd(out);
    this.held = keep > 0 ? out.subarray(out.length - keep) : null;
    return keep > 0 ? out.subarray(0, out.length - keep) : out;
  }

  /** What was held back, at the end of the stream. */
  flush(): Buffer {
    const rest = this.held ?? EMPTY;
    this.held = null;
    return rest;
  }

  /** Length of the longest end of `data` that is a proper prefix of some secret. */
  private partialSecretAtEnd(data: Buffer): number {
    let longest = 0;
    for (const { bytes } of this.secrets) {
      const max = Math.min(bytes.length - 1, data.length);
      for (let k = max; k > longest; k--) {
        if (data[data.length - k] === bytes[0] && data.compare(bytes, 0, k, data.length - k) === 0) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}

const EMPTY = Buffer.alloc(0);
