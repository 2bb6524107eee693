/** Reading OpenAI `usage` blocks (chat, completions, embeddings). */
import { usageFromObject } from "../../../gateway/src/stream/usage";

describe("usageFromObject", () => {
  it("reads chat and completion usage", () => {
    expect(usageFromObject({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 })).toEqual({ promptTokens: 12, completionTokens: 30 });
  });

  it("derives completion tokens from the total when absent (embeddings have none)", () => {
    expect(usageFromObject({ prompt_tokens: 8, total_tokens: 8 })).toEqual({ promptTokens: 8, completionTokens: 0 });
    expect(usageFromObject({ total_tokens: 5 })).toEqual({ promptTokens: 0, completionTokens: 5 });
  });

  it("treats junk counts as zero and junk blocks as no usage", () => {
    expect(usageFromObject({ prompt_tokens: -3, completion_tokens: "9" })).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect(usageFromObject(null)).toBeNull();
    expect(usageFromObject("usage")).toBeNull();
    expect(usageFromObject({})).toBeNull();
  });
});
