/** x-ratelimit-* headers in OpenAI's format, and Retry-After. */
import { appendRateLimitHeaders, formatDuration, rateLimitHeaders, REQUEST_HEADER_NAMES, retryAfterHeaders, TOKEN_HEADER_NAMES } from "../../../gateway/src/limits/headers";

describe("formatDuration (Go duration style, as OpenAI sends)", () => {
  it.each([
    [0, "0s"],
    [0.2, "1ms"],
    [20, "20ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [8_640, "8.64s"],
    [59_999, "59.999s"],
    [60_000, "1m0s"],
    [61_500, "1m1.5s"],
    [360_000, "6m0s"],
    [3_723_500, "1h2m3.5s"],
    [-5, "0s"],
  ])("%p ms -> %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("rateLimitHeaders", () => {
  it("sends the requests and tokens triples that apply", () => {
    expect(rateLimitHeaders({ limit: 60, remaining: 59, resetMs: 1_000 }, { limit: 150_000, remaining: 149_984, resetMs: 6.4 })).toEqual([
      ["x-ratelimit-limit-requests", "60"],
      ["x-ratelimit-remaining-requests", "59"],
      ["x-ratelimit-reset-requests", "1s"],
      ["x-ratelimit-limit-tokens", "150000"],
      ["x-ratelimit-remaining-tokens", "149984"],
      ["x-ratelimit-reset-tokens", "7ms"],
    ]);
    expect(rateLimitHeaders(null, null)).toEqual([]);
    expect(rateLimitHeaders(null, { limit: 1, remaining: 0, resetMs: 60_000 }).map(([n]) => n)).toEqual(["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"]);
  });
});

describe("appendRateLimitHeaders (an admitted request's flat head)", () => {
  it("appends exactly rateLimitHeaders' lines, flattened, for any limit state", () => {
    let x = 3;
    const rand = (n: number) => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 2_000; i++) {
      const requests = rand(3) === 0 ? null : { limit: 1 + rand(1e6), remaining: rand(1e6), resetMs: rand(4e6) / (1 + rand(7)) };
      const tokens = rand(3) === 0 ? null : { limit: 1 + rand(2e9), remaining: rand(2e9), resetMs: rand(4e6) / (1 + rand(7)) };
      const flat: string[] = ["x-request-id", "r"];
      if (requests) appendRateLimitHeaders(flat, REQUEST_HEADER_NAMES, String(requests.limit), requests);
      if (tokens) appendRateLimitHeaders(flat, TOKEN_HEADER_NAMES, String(tokens.limit), tokens);
      expect(flat).toEqual(["x-request-id", "r", ...rateLimitHeaders(requests, tokens).flat()]);
    }
  });
});

describe("retryAfterHeaders", () => {
  it("rounds up to whole seconds, at least 1, with the exact ms alongside", () => {
    expect(retryAfterHeaders(6_000)).toEqual([["retry-after", "6"], ["retry-after-ms", "6000"]]);
    expect(retryAfterHeaders(1_200.4)).toEqual([["retry-after", "2"], ["retry-after-ms", "1201"]]);
    expect(retryAfterHeaders(0)).toEqual([["retry-after", "1"], ["retry-after-ms", "1"]]);
  });
});
