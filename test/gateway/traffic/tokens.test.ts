/** Token estimates for reservation: a real tokenizer plus the requested completion budget. */
import { completionBudget, countChatTokens, countInputTokens, countTextParts, countTextTokens, estimateRequestTokens, loadTokenizer } from "../../../gateway/src/limits/tokens";
import { seededRandom } from "../../helpers/seeded-random";

/**
 * The chat count as it was specified before it was made allocation-free: every text collected in
 * message order, counted as one request's parts, plus framing, images and a newline between texts.
 */
function chatTokensByParts(body: Record<string, unknown>): number {
  const parts: string[] = [];
  let overhead = 3;
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (message === null || typeof message !== "object") continue;
    const m = message as Record<string, unknown>;
    overhead += 3;
    if (typeof m.role === "string") parts.push(m.role);
    if (typeof m.name === "string") parts.push(m.name);
    if (typeof m.content === "string") parts.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const part of m.content as unknown[]) {
        if (part === null || typeof part !== "object") continue;
        const p = part as Record<string, unknown>;
        if (typeof p.text === "string") parts.push(p.text);
        else if (p.type === "image_url" || p.type === "input_image") overhead += 85;
      }
    }
    if (m.tool_calls !== undefined) parts.push(JSON.stringify(m.tool_calls));
  }
  if (body.tools !== undefined) parts.push(JSON.stringify(body.tools));
  if (body.functions !== undefined) parts.push(JSON.stringify(body.functions));
  return overhead + Math.max(0, parts.length - 1) + countTextParts(parts);
}

describe("token estimates", () => {
  it("counts text with the o200k tokenizer", () => {
    expect(countTextTokens("")).toBe(0);
    expect(countTextTokens("hello world")).toBe(2);
    // Special-token text is ordinary text for counting, never an error.
    expect(countTextTokens("a <|endoftext|> b")).toBeGreaterThan(3);
  });

  it("counts a text past 256 Ki characters on its first 256 Ki, scaled by length", () => {
    const prefix = 256 * 1024;
    const prose = "The gateway counts every token of it, twice a day. ".repeat(24_000); // 1.2 M characters
    const exact = loadTokenizer().count(prose);
    const estimate = countTextTokens(prose);
    expect(estimate).toBe(Math.ceil((loadTokenizer().count(prose.slice(0, prefix)) * prose.length) / prefix));
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.001);
    // One 1 MB word: 8 letters a token, the same scaled.
    expect(countTextTokens("a".repeat(1_048_576))).toBe(131_072);
    // At the limit the count is still exact.
    const edge = "x ".repeat(prefix / 2);
    expect(countTextTokens(edge)).toBe(loadTokenizer().count(edge));
  });

  it("spends the 256 Ki exact budget per request, not per text, then estimates at the request's own rate", () => {
    const budget = 256 * 1024;
    const prose = ("The gateway counts every token of it, twice a day. ".repeat(6_000) + "z").slice(0, budget);
    const runs = Array.from({ length: 10 }, (_, i) => "a".repeat(8_000) + i);
    const proseTokens = loadTokenizer().count(prose);
    // The prose spends the whole budget, exactly; each run after it is estimated at the prose's
    // tokens per character, although a run of one letter is 8 letters a token.
    const expected = proseTokens + runs.reduce((sum, run) => sum + Math.ceil((proseTokens * run.length) / budget), 0);
    expect(countInputTokens([prose, ...runs])).toBe(expected);
    expect(runs.reduce((sum, run) => sum + loadTokenizer().count(run), 0)).toBeLessThan(expected - proseTokens);
    // A chat shares one budget across its messages the same way: 2,000 new 5 KiB messages (10 MiB)
    // come within 1% of the exact count.
    const part = (i: number) => `Part ${i}: ` + "The gateway counts every token of it. ".repeat(130);
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ role: "user", content: part(i) }));
    let exact = 3 + 2_000 * 3 + (2 * 2_000 - 1); // priming, framing, newlines between the 4,000 parts
    for (let i = 0; i < 2_000; i++) exact += loadTokenizer().count("user") + loadTokenizer().count(part(i));
    expect(Math.abs(countChatTokens({ messages }) - exact) / exact).toBeLessThan(0.01);
  });

  it("counts chat messages with per-message framing, names, parts and tools", () => {
    const one = countChatTokens({ messages: [{ role: "user", content: "hello world" }] });
    // 3 reply priming + 3 framing + "user\nhello world"
    expect(one).toBe(3 + 3 + countTextTokens("user\nhello world"));
    const parts = countChatTokens({ messages: [{ role: "user", content: [{ type: "text", text: "hello world" }, { type: "image_url", image_url: { url: "data:" } }] }] });
    expect(parts).toBe(one + 85);
    const withTools = countChatTokens({ messages: [{ role: "user", content: "hello world" }], tools: [{ type: "function", function: { name: "lookup", parameters: {} } }] });
    expect(withTools).toBeGreaterThan(one + 5);
    expect(countChatTokens({ messages: "nonsense" })).toBe(3);
  });

  it("counts a chat exactly as its texts counted as one request's parts, over 500 random bodies", () => {
    const random = seededRandom(14);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const words = ["hello", " world", "Über", " 12345", "😀", "\n\n", "it's", "<|endoftext|>", "", "  ", "a".repeat(300)];
    const text = () => Array.from({ length: Math.floor(random() * 12) }, () => pick(words)).join(pick(["", " "]));
    // Some texts past the 256 Ki exact budget, so the sampled estimate (which depends on order) is compared too.
    const big = () => (random() < 0.05 ? "The gateway counts every token. ".repeat(4_000) : text());
    const part = () => pick<unknown>([{ type: "text", text: big() }, { type: "image_url", image_url: { url: "data:" } }, { type: "input_image" }, null, 7, { type: "text", text: 3 }]);
    const message = () => ({
      ...(random() < 0.9 ? { role: pick(["user", "assistant", "system", "tool"]) } : {}),
      ...(random() < 0.2 ? { name: text() } : {}),
      ...(random() < 0.1 ? { tool_calls: [{ id: text(), type: "function", function: { name: "f", arguments: text() } }] } : {}),
      content: pick<unknown>([big(), Array.from({ length: Math.floor(random() * 4) }, part), null, undefined, 42]),
    });
    for (let i = 0; i < 500; i++) {
      const body: Record<string, unknown> = { messages: Array.from({ length: Math.floor(random() * 8) }, () => (random() < 0.05 ? pick([null, "x", 3]) : message())) };
      if (random() < 0.2) body.tools = [{ type: "function", function: { name: text(), parameters: {} } }];
      if (random() < 0.1) body.functions = [{ name: text() }];
      expect(countChatTokens(body)).toBe(chatTokensByParts(body));
    }
  });

  it("counts prompts and embedding inputs in every accepted shape", () => {
    expect(countInputTokens("hello world")).toBe(2);
    expect(countInputTokens(["hello world", "hello world"])).toBe(4);
    expect(countInputTokens([1, 2, 3])).toBe(3);
    expect(countInputTokens([[1, 2], [3]])).toBe(3);
    expect(countInputTokens(null)).toBe(0);
  });

  it("reserves max_completion_tokens, else max_tokens, else the default, times n", () => {
    expect(completionBudget({ max_completion_tokens: 50, max_tokens: 10 }, 1024)).toBe(50);
    expect(completionBudget({ max_tokens: 10, n: 3 }, 1024)).toBe(30);
    expect(completionBudget({ max_tokens: -1 }, 1024)).toBe(1024);
    expect(completionBudget({}, 256)).toBe(256);
  });

  it("estimates by route", () => {
    expect(estimateRequestTokens("embeddings", { input: "hello world", max_tokens: 99 }, 1024)).toEqual({ prompt: 2, completion: 0 });
    expect(estimateRequestTokens("completions", { prompt: "hello world", max_tokens: 7 }, 1024)).toEqual({ prompt: 2, completion: 7 });
    // An image reserves its output tokens (gpt-image-1, high, 1024²) per image asked for.
    expect(estimateRequestTokens("images.generations", { prompt: "a cat", n: 2 }, 1024)).toEqual({ prompt: 2, completion: 2 * 4160 });
    expect(estimateRequestTokens("chat.completions", { messages: [{ role: "user", content: "hi" }] }, 100).completion).toBe(100);
  });
});
