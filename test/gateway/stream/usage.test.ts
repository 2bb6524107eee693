/** Reading OpenAI `usage` blocks (chat, completions, embeddings). */
import { generationUsageFromObject, usageFromObject } from "../../../gateway/src/stream/usage";

describe("usageFromObject", () => {
  it("reads chat and completion usage", () => {
    expect(usageFromObject({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 })).toEqual({ promptTokens: 12, completionTokens: 30 });
  });

  it("derives completion tokens from the total when absent (embeddings have none)", () => {
    expect(usageFromObject({ prompt_tokens: 8, total_tokens: 8 })).toEqual({ promptTokens: 8, completionTokens: 0 });
    expect(usageFromObject({ total_tokens: 5 })).toEqual({ promptTokens: 0, completionTokens: 5 });
  });

  it("treats junk counts as no usage (the gateway charges its own count), rounds fractions and caps huge counts", () => {
    // Junk used to count as zero: a free request. Now the block is unusable and the gateway estimates.
    expect(usageFromObject({ prompt_tokens: -3, completion_tokens: 9 })).toBeNull();
    expect(usageFromObject({ prompt_tokens: 3, completion_tokens: "9" })).toBeNull();
    expect(usageFromObject({ prompt_tokens: Number.NaN, completion_tokens: 1 })).toBeNull();
    expect(usageFromObject({ prompt_tokens: 2.6, completion_tokens: 1e30 })).toEqual({ promptTokens: 3, completionTokens: 10_000_000 });
    expect(usageFromObject(null)).toBeNull();
    expect(usageFromObject("usage")).toBeNull();
    expect(usageFromObject({})).toBeNull();
  });
});

describe("generationUsageFromObject", () => {
  it("takes a block that counts the prompt alone as no usage (the gateway counts the output itself)", () => {
    expect(generationUsageFromObject({ prompt_tokens: 5 })).toBeNull();
    expect(usageFromObject({ prompt_tokens: 5 })).toEqual({ promptTokens: 5, completionTokens: 0 }); // embeddings
    expect(generationUsageFromObject({ prompt_tokens: 5, total_tokens: 9 })).toEqual({ promptTokens: 5, completionTokens: 4 });
    expect(generationUsageFromObject({ prompt_tokens: 5, completion_tokens: 0 })).toEqual({ promptTokens: 5, completionTokens: 0 });
    expect(generationUsageFromObject(null)).toBeNull();
  });
});
