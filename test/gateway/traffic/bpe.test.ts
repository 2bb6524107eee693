/**
 * The gateway's own BPE counter (gateway/src/limits/bpe): compact vocabulary tables plus a
 * tiktoken-style merge. Its counts must equal a reference implementation's exactly: the
 * o200k_base test plan shipped with gpt-tokenizer (expected token lists), and gpt-tokenizer
 * itself on random and hostile text. Special-token text counts as ordinary text, as the
 * gateway counts it.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { countTokens as referenceCount } from "gpt-tokenizer/cjs/encoding/o200k_base";
import { o200kAsciiPieceEnd, PieceSplitter } from "../../../gateway/src/limits/bpe/ascii-split";
import { BpeCounter } from "../../../gateway/src/limits/bpe/count";
import { mergeByHeap, mergeByScan } from "../../../gateway/src/limits/bpe/merge";
import { loadTiktokenFile, parseTiktoken } from "../../../gateway/src/limits/bpe/rank-table";
import { loadTokenizer } from "../../../gateway/src/limits/tokens";

const counter = loadTokenizer();
const PLAIN = { disallowedSpecial: new Set<string>() };
const reference = (text: string) => referenceCount(text, PLAIN);

/** "EncodingName / Sample / Encoded" records of gpt-tokenizer's data/TestPlans.txt. */
function testPlan(encoding: string): { sample: string; tokens: number }[] {
  const text = readFileSync(require.resolve("gpt-tokenizer/data/TestPlans.txt"), "utf8");
  const out: { sample: string; tokens: number }[] = [];
  for (const record of text.split(/\n\n+/)) {
    const m = /^EncodingName: (\S+)\nSample: (.*)\nEncoded: \[(.*)\]$/s.exec(record.trim());
    if (m && m[1] === encoding) out.push({ sample: m[2], tokens: m[3].trim() === "" ? 0 : m[3].split(",").length });
  }
  return out;
}

test("counts every o200k_base sample of the published test plan exactly", () => {
  const plan = testPlan("o200k_base");
  expect(plan.length).toBeGreaterThanOrEqual(50);
  for (const { sample, tokens } of plan) expect([sample, counter.count(sample)]).toEqual([sample, tokens]);
});

test("equals the reference on hand-picked hard cases", () => {
  const cases = [
    "",
    "hello world",
    "a <|endoftext|> b <|im_start|>",
    " ".repeat(3000),
    "a".repeat(5000),
    "\n\n\n  \t\t\r\n x",
    "1234567890".repeat(50),
    "don't WON'T I'll you've they'RE",
    "über naïve café ﬁ ẞ Ǆ",
    "👨‍👩‍👧‍👦🏳️‍🌈 🇹🇭🇯🇵",
    "\ud800 lone \udfff surrogates \ud83d",
    "中文字符测试，标点符号！",
    "function f(x) {\n  return x ** 2; // comment\n}\n",
    '{"key": [1, 2.5e-3, null, "\\u00e9"]}',
    "x".repeat(40) + "é".repeat(40) + "😀".repeat(40),
  ];
  for (const text of cases) expect([text.slice(0, 40), counter.count(text)]).toEqual([text.slice(0, 40), reference(text)]);
});

test("equals the reference on random text (code points, graphemes, any UTF-16 unit incl. lone surrogates, word soup)", () => {
  const soup = fc.array(fc.constantFrom("the", " The", "  ", "\n", "123", "4567", "'s", "'LL", "é", "中", "😀", "-", "--", "/", "<|endoftext|>", "\t", "ab", "CamelCase"), { maxLength: 60 }).map((parts) => parts.join(""));
  const texts = fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom("a", " ", "é")), maxLength: 200 }), fc.string({ unit: fc.constantFrom(..."aZ9 \n.'é中"), maxLength: 300 }), soup);
  fc.assert(
    fc.property(texts, (text) => counter.count(text) === reference(text)),
    { numRuns: 1500, seed: 20261122 },
  );
});

test("the ASCII splitter cuts every text exactly where the o200k regex does", () => {
  const { O200K_TOKEN_SPLIT_REGEX } = require("gpt-tokenizer/cjs/encodingParams/constants") as { O200K_TOKEN_SPLIT_REGEX: RegExp };
  const regex = () => new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);
  const withFast = new PieceSplitter(regex(), o200kAsciiPieceEnd);
  const pieces = (text: string) => {
    const out: string[] = [];
    for (let pos = 0; withFast.next(text, pos); pos = withFast.end) out.push(text.slice(withFast.start, withFast.end));
    return out;
  };
  const byRegex = (text: string) => [...text.matchAll(regex())].map((m) => m[0]);
  // Every ASCII character class next to each other, plus a few non-ASCII neighbours.
  const chars = fc.constantFrom(..."aZqQ09 \t\n\r\v\f.,'/-(_$\x00\x7fsSdDmMtTlLvVeErR", "é", "\u00a0", "٣", "Ⅻ", "\u2028", "😀", "ǅ");
  const soup = fc.array(fc.constantFrom("'s", "'LL", "'ve", "'Re", "'t", "  ", "\r\n", " /", "...", "ABc", "abC", "x1", "123456", " ?!", "\n\n  "), { maxLength: 30 }).map((p) => p.join(""));
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: chars, maxLength: 120 }), soup), (text) => {
      expect(pieces(text)).toEqual(byRegex(text));
    }),
    { numRuns: 4000, seed: 20261122 },
  );
  expect(pieces("Hello, World! don't  stop\n\n  x 12345 ...//\n")).toEqual(byRegex("Hello, World! don't  stop\n\n  x 12345 ...//\n"));
  // Non-ASCII hands the decision to the regex, which may return a piece that spans ASCII too.
  expect(o200kAsciiPieceEnd("é", 0)).toBe(-1);
  expect(o200kAsciiPieceEnd(" é", 0)).toBe(-1);
  expect(o200kAsciiPieceEnd("hello", 0)).toBe(5);
});

test("merging by heap equals merging by scan, for any bytes", () => {
  const table = loadTiktokenFile(require.resolve("gpt-tokenizer/data/o200k_base.tiktoken"));
  // Few distinct bytes make many equal-rank ties, the case where the order of merges matters.
  const pieces = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }),
    fc.array(fc.constantFrom(97, 98, 32, 0xc3, 0xa9), { minLength: 1, maxLength: 300 }).map((a) => Uint8Array.from(a)),
    fc.string({ unit: fc.constantFrom("ab", "a", "=", "Q", "x9", "é"), minLength: 1, maxLength: 150 }).map((t) => new Uint8Array(Buffer.from(t))),
  );
  fc.assert(
    fc.property(pieces, (bytes) => mergeByHeap(table, bytes, bytes.length) === mergeByScan(table, bytes, bytes.length)),
    { numRuns: 1500, seed: 20261122 },
  );
});

test("one long word (a base64 blob, a run of one letter) counts exactly, up to a 1 MB word", () => {
  const base64 = Buffer.from(Array.from({ length: 3_000 }, (_, i) => (i * 7919) % 251)).toString("base64");
  const texts = ["a".repeat(4_000), base64, "ab".repeat(1_500) + "Z".repeat(500), "é".repeat(2_000)];
  for (const text of texts) expect([text.slice(0, 12), counter.count(text)]).toEqual([text.slice(0, 12), reference(text)]);
  // 1 MB in one piece: the quadratic merge took 7 s for 100 KB. Counted, not timed: the answer
  // is known (a run of 'a' merges into the same 8-letter token over and over).
  expect(counter.count("a".repeat(1_000_000))).toBe(125_000);
});

test("the vocabulary table finds every token by its bytes, and nothing else", () => {
  const table = parseTiktoken(Buffer.from("YQ== 0\nYg== 1\nYWI= 2\n"));
  expect(table.size).toBe(3);
  const bytes = Buffer.from("abc");
  expect(table.rankOf(bytes, 0, 1)).toBe(0);
  expect(table.rankOf(bytes, 1, 2)).toBe(1);
  expect(table.rankOf(bytes, 0, 2)).toBe(2);
  expect(table.rankOf(bytes, 2, 3)).toBe(-1);
  expect(table.rankOf(bytes, 0, 3)).toBe(-1);
  // "ab" merges to one token; "c" is no token at all, so BPE leaves it as its own part.
  expect(new BpeCounter(table, new PieceSplitter(/\S+/g)).count("ab abc")).toBe(3);
});

test("a vocabulary file with a missing or repeated rank, or a token not in base64, is refused", () => {
  expect(() => parseTiktoken(Buffer.from("YQ== 0\nYg== 2\n"))).toThrow("tiktoken file: rank 2 where 1 was expected");
  expect(() => parseTiktoken(Buffer.from("YQ== 0\nYg== 0\n"))).toThrow("tiktoken file: rank 0 where 1 was expected");
  expect(() => parseTiktoken(Buffer.from("YQ==\n"))).toThrow("tiktoken file: no rank on line 1");
  expect(() => parseTiktoken(Buffer.from("Y*== 0\n"))).toThrow("tiktoken file: a token is not base64");
  expect(() => new PieceSplitter(/a/)).toThrow("the split regex must be global");
});
