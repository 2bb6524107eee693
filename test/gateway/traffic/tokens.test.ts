/** Token estimates for reservation: a real tokenizer plus the requested completion budget. */
import { completionBudget, countChatTokens, countInputTokens, countTextTokens, estimateRequestTokens, loadTokenizer } from "../../../gateway/src/limits/tokens";

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
