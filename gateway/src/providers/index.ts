/** The providers by name, as a target's `provider` field names them. */
import { anthropicProvider } from "./anthropic";
import { openaiProvider } from "./openai";
import type { Provider, ProviderName } from "./provider";

export type { HealthProbe, Provider, ProviderName, UpstreamDialect, UpstreamOperation } from "./provider";
export { PROVIDER_NAMES } from "./provider";

const PROVIDERS: Readonly<Record<ProviderName, Provider>> = { openai: openaiProvider, anthropic: anthropicProvider };

export function providerFor(name: ProviderName): Provider {
  return PROVIDERS[name];
}
