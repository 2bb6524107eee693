/** The providers by name, as a target's `provider` field names them. */
import { anthropicProvider } from "./anthropic";
import { openaiNativeResponsesProvider, openaiProvider } from "./openai";
import type { Provider, ProviderName } from "./provider";

export type { HealthProbe, Provider, ProviderName, UpstreamDialect, UpstreamOperation } from "./provider";
export { PROVIDER_NAMES } from "./provider";

const PROVIDERS: Readonly<Record<ProviderName, Provider>> = { openai: openaiProvider, anthropic: anthropicProvider };

/** The provider of a target; `responsesApi: native` on an OpenAI-compatible target passes Responses through. */
export function providerFor(name: ProviderName, responsesApi?: "native" | "translate"): Provider {
  return name === "openai" && responsesApi === "native" ? openaiNativeResponsesProvider : PROVIDERS[name];
}
