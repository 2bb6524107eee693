/** The `pricing:` entries of the gateway config (the shipped table is ../budget/prices.json). */
import { z } from "zod";

/** USD per million tokens. Cached input, cache writes and reasoning default to the input, input and output rates. */
const rateShape = {
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  /** Input read from the provider's prompt cache. */
  cachedInputPerMTok: z.number().nonnegative().optional(),
  /** Input written to the provider's prompt cache (Anthropic). */
  cacheWritePerMTok: z.number().nonnegative().optional(),
  /** Reasoning tokens, where a provider bills them apart from output. */
  reasoningPerMTok: z.number().nonnegative().optional(),
};

export const priceSchema = z
  .object({
    ...rateShape,
    /** Rates for the whole request when its prompt is over `aboveTokens` (long-context tiers). */
    longContext: z.object({ aboveTokens: z.number().int().positive(), ...rateShape }).strict().optional(),
  })
  .strict();
