/**
 * The token counter remembers the counts of texts it has seen (a chat resends its history every
 * turn), and a remembered text keeps its string alive. Driven through HTTP by a key with a
 * tokens-per-minute limit sending long messages that all differ: what stays on the heap is bounded
 * by the memo's character budget (8 Mi characters), not only by its 8,192 entries (which let
 * 8,192 texts of 32 Ki characters, 256 MB or more, stay).
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { MAX_COUNTED_CHARS, rememberedTextChars } from "../../../gateway/src/limits/tokens";
import type { TestGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { chat, startTrafficGateway } from "./http-helpers";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const KEY = { authorization: "Bearer sk-memo-0123456789" };
const TEXT_CHARS = 32_000;
/** Texts a request: 256,000 characters, what one request may have counted exactly (and remembered). */
const TEXTS = 8;
const REQUESTS = 64;
const WORDS = [" the", " gateway", " counts", " every", " token", " of", " it", " twice", " a", " day", ".", " And", " then", " some"];

/** A 32,000-character ASCII message unlike every other one (its number leads it). */
function uniqueText(n: number): string {
  const parts = [`Message ${n}:`];
  let length = parts[0].length;
  for (let w = n % WORDS.length; length < TEXT_CHARS; w = (w + 5) % WORDS.length) {
    parts.push(WORDS[w]);
    length += WORDS[w].length;
  }
  return parts.join("").slice(0, TEXT_CHARS);
}

const request = (n: number) => ({ model: "m", messages: Array.from({ length: TEXTS }, (_, i) => ({ role: "user", content: uniqueText(n * TEXTS + i) })), max_tokens: 4 });

describe("the token counter's memo under long, ever-new texts", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 2 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      keys: [{ name: "memo", key: "sk-memo-0123456789", limits: { tokensPerMinute: 1_000_000_000 } }],
    });
  });

  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  it("keeps what it remembers within its character budget, whatever the number of texts", async () => {
    // Warm-up (the tokenizer, the pipeline's code and buffers) before the heap is measured.
    for (let n = 0; n < 2; n++) expect((await chat(gw.url, request(1_000 + n), KEY)).status).toBe(200);
    upstream.requests.length = 0;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let n = 0; n < REQUESTS; n += 2) {
      for (const res of await Promise.all([chat(gw.url, request(n), KEY), chat(gw.url, request(n + 1), KEY)])) expect(res.status).toBe(200);
      upstream.requests.length = 0; // the mock records every request: not the gateway's memory
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // 512 texts of 32,000 one-byte characters: 16.4 MB if every one stayed; the budget keeps at most 8 MiB of them.
    expect(grown).toBeLessThan(12 * 1024 * 1024);
    expect(rememberedTextChars()).toBeLessThanOrEqual(MAX_COUNTED_CHARS);
  }, 180_000);
});
