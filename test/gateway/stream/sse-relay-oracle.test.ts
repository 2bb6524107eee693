/**
 * Oracle tests for the SSE relay's per-chunk fast paths: the usage filter (with its scanner) and
 * the stream redactor and the delivered-text count, rewritten to look at each byte about once, against their versions from
 * before the rewrite (test/gateway/stream/reference/), on seeded random streams cut into random
 * chunks. Every push must forward the same bytes, and the usage must match, and the delivered count
 * wherever it is what gets charged (no usage read).
 */
import { SseUsageFilter } from "../../../gateway/src/stream/sse-usage-filter";
import { SseEventScanner } from "../../../gateway/src/stream/sse-events";
import { compileSecret, StreamRedactor } from "../../../gateway/src/upstream/redact";
import { ReferenceSseUsageFilter } from "./reference/sse-usage-filter-reference";
import { ReferenceSseEventScanner } from "./reference/sse-events-reference";
import { ReferenceStreamRedactor } from "./reference/stream-redactor-reference";
import { fieldKeys, tallyDeltas, tokensOfTally, type DeltaTally } from "../../../gateway/src/stream/delta-count";
import { referenceFieldKeys, referenceTallyDeltas } from "./reference/delta-count-reference";
import { seededRandom } from "../../helpers/seeded-random";

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (random: Random, max: number): number => Math.floor(random() * (max + 1));

const TEXTS = ["Hello", " world", "", "é ü 日本", "\\\"quoted\\\"", '"usage":{"prompt_tokens":1}', "usage", "data: x", "\\n\\n", "😀", "a".repeat(300)];
const USAGE = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 3 } };

/** One random event's payload (the JSON or text after `data:`). */
function payload(random: Random): string {
  const kind = int(random, 9);
  const delta = { content: pick(random, TEXTS) };
  if (kind <= 3) return JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta }], usage: random() < 0.5 ? null : undefined });
  if (kind === 4) return JSON.stringify({ choices: [], usage: USAGE });
  if (kind === 5) return JSON.stringify({ choices: [{ index: 0, delta }], usage: USAGE });
  if (kind === 6) return JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ function: { arguments: '{"a":1}' } }] } }], usage: { total_tokens: 5 } });
  if (kind === 7) return "[DONE]";
  if (kind === 8) return '{"usage": {"prompt_tokens": 2, "completion_tokens": 1}, "choices": []';
  return JSON.stringify({ choices: [], usage: { prompt_tokens: "x" } });
}

/** A random stream: events with one or more data lines, other fields, comments, empty events, LF/CRLF/CR endings. */
function randomStream(random: Random): Buffer {
  const lineEndings = random() < 0.7 ? ["\n"] : ["\n", "\r\n", "\r"];
  const events: string[] = [];
  const count = 1 + int(random, 12);
  for (let i = 0; i < count; i++) {
    const nl = () => pick(random, lineEndings);
    const lines: string[] = [];
    if (random() < 0.1) lines.push(`event: ${pick(random, ["message", "usage"])}`);
    if (random() < 0.05) lines.push(": keep-alive");
    if (random() < 0.1) {
      // A JSON value split over two data lines (the spec joins them with a newline).
      const json = payload(random);
      const cut = int(random, json.length);
      lines.push(`data: ${json.slice(0, cut)}`, `data:${json.slice(cut)}`);
    } else lines.push(`data:${random() < 0.9 ? " " : ""}${payload(random)}`);
    let event = lines.map((line) => line + nl()).join("") + nl();
    if (random() < 0.05) event += nl(); // an empty event after it
    events.push(event);
  }
  let text = events.join("");
  if (random() < 0.15) text = text.replace(/[\r\n]+$/, ""); // unterminated at the end of the stream
  if (random() < 0.05) text = `\n${text}`;
  return Buffer.from(text);
}

/** The stream cut at random places (sometimes whole, sometimes byte by byte). */
function randomChunks(random: Random, bytes: Buffer): Buffer[] {
  const mode = random();
  if (mode < 0.1) return [bytes];
  if (mode < 0.15) return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + int(random, random() < 0.5 ? 8 : 400);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Cuts at event ends, as servers write: one or a few whole events per chunk. */
function eventAlignedChunks(random: Random, bytes: Buffer): Buffer[] {
  const text = bytes.toString("latin1");
  const chunks: Buffer[] = [];
  let from = 0;
  for (let at = text.indexOf("\n\n"); at !== -1; at = text.indexOf("\n\n", at + 2)) {
    if (random() < 0.6) {
      chunks.push(bytes.subarray(from, at + 2));
      from = at + 2;
    }
  }
  if (from < bytes.length) chunks.push(bytes.subarray(from));
  return chunks;
}

describe("SSE relay fast paths against the reference implementations", () => {
  it("the usage filter forwards the same bytes at every push, with the same usage and delivered count", () => {
    let pushes = 0;
    let dropped = 0;
    for (let seed = 1; seed <= 4_000; seed++) {
      const random = seededRandom(seed);
      const stream = randomStream(random);
      const chunks = random() < 0.5 ? randomChunks(random, stream) : eventAlignedChunks(random, stream);
      const drop = random() < 0.7;
      const count = random() < 0.7;
      const fast = new SseUsageFilter(drop, count);
      const reference = new ReferenceSseUsageFilter(drop, count);
      let total = 0;
      for (const chunk of chunks) {
        const got = fast.push(chunk);
        const want = reference.push(chunk);
        if (!got.equals(want)) throw new Error(`seed ${seed}: push ${pushes} differs:\n${JSON.stringify(got.toString())}\n${JSON.stringify(want.toString())}`);
        total += got.length;
        pushes++;
      }
      const got = fast.flush();
      const want = reference.flush();
      if (!got.equals(want)) throw new Error(`seed ${seed}: flush differs:\n${JSON.stringify(got.toString())}\n${JSON.stringify(want.toString())}\nstream ${JSON.stringify(stream.toString())}`);
      total += got.length;
      if (total < stream.length) dropped++;
      // The delivered count is what is charged when no usage arrived; once usage is read it is no longer kept.
      const charged = (filter: { usage: unknown; delivered: DeltaTally | null }) => filter.usage ?? (filter.delivered && tokensOfTally(filter.delivered));
      expect({ seed, usage: fast.usage, charged: charged(fast) }).toEqual({ seed, usage: reference.usage, charged: charged(reference) });
      if (fast.usage === null) expect({ seed, delivered: fast.delivered }).toEqual({ seed, delivered: reference.delivered });
    }
    // The random streams exercise what matters: many pushes, and usage events actually dropped.
    expect(pushes).toBeGreaterThan(50_000);
    expect(dropped).toBeGreaterThan(500);
  });

  it("the scanner finds the same last event end in every chunk", () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const random = seededRandom(seed);
      const stream = randomStream(random);
      const fast = new SseEventScanner();
      const reference = new ReferenceSseEventScanner();
      for (const chunk of random() < 0.5 ? randomChunks(random, stream) : eventAlignedChunks(random, stream)) {
        expect({ seed, end: fast.scan(chunk) }).toEqual({ seed, end: reference.scan(chunk) });
      }
    }
  });

  it("the stream redactor passes and holds back the same bytes", () => {
    const secrets = [compileSecret("sk-live-AbC\n123"), compileSecret("key-xyz")];
    let redacted = 0;
    for (let seed = 1; seed <= 2_000; seed++) {
      const random = seededRandom(seed);
      const parts: string[] = [];
      for (let i = int(random, 20); i >= 0; i--) parts.push(pick(random, ["data: {\"a\":\"", "sk-live-AbC\n123", "sk-live-", "key-", "xyz", "\n\n", "k", "s", "é", "AbC\n1"]));
      const stream = Buffer.from(parts.join(""));
      const fast = new StreamRedactor(secrets);
      const reference = new ReferenceStreamRedactor(secrets);
      let out = "";
      for (const chunk of randomChunks(random, stream)) {
        const got = fast.push(chunk);
        expect({ seed, out: got.toString("latin1") }).toEqual({ seed, out: reference.push(chunk).toString("latin1") });
        out += got.toString();
      }
      const rest = fast.flush();
      expect(rest.equals(reference.flush())).toBe(true);
      out += rest.toString();
      if (out.includes("[redacted]")) redacted++;
      expect(out).not.toContain("sk-live-AbC\n123");
      expect(out).not.toContain("key-xyz");
    }
    expect(redacted).toBeGreaterThan(500);
  });

  it("the delivered-text count tallies the same pieces and bytes, OpenAI and Anthropic field names", () => {
    const names = [["content", "text", "refusal", "reasoning_content", "arguments"], ["text", "thinking", "partial_json"]];
    const atoms = ['"content":"', '"content": "', "xcontent\":\"", '"reasoning_content":"', '"text":"', '"texts":"', '"partial_json":"', '"thinking":  "', "abc", '\\"', '"', ":", " ", "é", '"arguments":"{\\"a\\":1}"', '"refusal":null', "}"];
    let counted = 0;
    for (let seed = 1; seed <= 3_000; seed++) {
      const random = seededRandom(seed);
      const parts: string[] = [];
      for (let i = int(random, 30); i >= 0; i--) parts.push(pick(random, atoms));
      const data = Buffer.from(parts.join(""));
      const which = int(random, 1);
      const from = int(random, 3);
      const fast = { pieces: 0, bytes: 0 };
      const reference = { pieces: 0, bytes: 0 };
      tallyDeltas(data, Math.min(from, data.length), data.length, fast, fieldKeys(names[which]));
      referenceTallyDeltas(data, Math.min(from, data.length), data.length, reference, referenceFieldKeys(names[which]));
      expect({ seed, tally: fast }).toEqual({ seed, tally: reference });
      if (fast.pieces > 0) counted++;
    }
    expect(counted).toBeGreaterThan(1_500);
  });
});
