/**
 * The embedded default config behind `npm start`: mock models that need no keys, plus real
 * upstreams for each provider whose key is set in the environment. It has no client keys, so
 * with a provider key it is an open proxy to a paid account: it only listens on loopback then,
 * unless GATEWAY_ALLOW_OPEN_PROXY=1 says that is meant (see openProxyProblem). Its /metrics and
 * /admin are served on a second, loopback listener (see adminListener).
 */
import type { GatewayConfigInput } from "./schema";

type ModelInput = GatewayConfigInput["models"][number];

/** OpenAI-compatible providers the default config adds when their key is in the environment. */
const PROVIDERS: { env: string; baseUrl: string; models: [string, string][] }[] = [
  { env: "OPENAI_API_KEY", baseUrl: "https://api.openai.com/v1", models: [["gpt-4o", "gpt-4o"], ["gpt-4o-mini", "gpt-4o-mini"], ["text-embedding-3-small", "text-embedding-3-small"]] },
  { env: "DEEPSEEK_API_KEY", baseUrl: "https://api.deepseek.com/v1", models: [["deepseek-chat", "deepseek-chat"]] },
  { env: "GEMINI_API_KEY", baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai", models: [["gemini-2.5-flash", "gemini-2.5-flash"]] },
];

/** The opt-in for serving the embedded config's real providers, unauthenticated, beyond loopback. */
export const ALLOW_OPEN_PROXY_ENV = "GATEWAY_ALLOW_OPEN_PROXY";

/** The providers whose key is set in `env`, by environment variable (OPENAI_API_KEY, …). */
export function embeddedProviders(env: NodeJS.ProcessEnv): string[] {
  return PROVIDERS.filter((provider) => !!env[provider.env]).map((provider) => provider.env);
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why the embedded config must not start with `env`, or null: real providers, no client keys,
 * a listener other machines can reach, and no explicit opt-in.
 */
export function openProxyProblem(env: NodeJS.ProcessEnv): string | null {
  const providers = embeddedProviders(env);
  const host = env.HOST ?? "127.0.0.1";
  if (providers.length === 0 || isLoopbackHost(host) || env[ALLOW_OPEN_PROXY_ENV] === "1") return null;
  return `HOST=${host}: the embedded config has no client keys, so it would serve ${providers.join(", ")}'s paid models to anyone who reaches ${host}. ` +
    `Listen on 127.0.0.1, or run a config file with client keys (--config, see examples/gateway.yaml), or set ${ALLOW_OPEN_PROXY_ENV}=1 if an open proxy is what you mean.`;
}

export function defaultConfig(env: NodeJS.ProcessEnv): GatewayConfigInput {
  const mockTarget = (name: string, ttftMs: number, interTokenMs: number, provider: "openai" | "anthropic" = "openai") => ({
    name,
    baseUrl: `mock://${name}`,
    provider,
    mock: { latencyMs: 20, ttftMs, interTokenMs, tokens: 16 },
  });
  const models: ModelInput[] = [
    { name: "mock-gpt", strategy: "latency", fallbacks: ["mock-mini"], targets: [mockTarget("mock-a", 30, 10), mockTarget("mock-b", 50, 15)] },
    { name: "mock-mini", strategy: "round-robin", targets: [mockTarget("mock-c", 10, 5)] },
    { name: "mock-embedding", targets: [mockTarget("mock-embed", 0, 0)] },
    // A native Anthropic Messages mock: /v1/messages passes through, chat clients are translated.
    { name: "mock-claude", fallbacks: ["mock-mini"], targets: [mockTarget("mock-claude", 30, 10, "anthropic")] },
  ];
  for (const provider of PROVIDERS) {
    const apiKey = env[provider.env];
    if (!apiKey) continue;
    for (const [name, upstream] of provider.models) {
      // OpenAI serves the Responses API itself; the compat endpoints get it translated.
      const responsesApi = provider.env === "OPENAI_API_KEY" ? { responsesApi: "native" as const } : {};
      models.push({ name, targets: [{ name: provider.env.replace(/_API_KEY$/, "").toLowerCase(), baseUrl: provider.baseUrl, apiKey, model: upstream, ...responsesApi }] });
    }
  }
  const port = env.PORT ? Number(env.PORT) : 8080;
  return {
    server: { host: env.HOST ?? "127.0.0.1", port, ...adminListener(env, port) },
    models,
    // GATEWAY_ADMIN_KEY turns on the admin API and the console (/ui/) for `npm start`.
    // No client keys (the embedded config serves anonymous requests), so auth.required is false.
    ...(env.GATEWAY_ADMIN_KEY ? { auth: { adminKey: env.GATEWAY_ADMIN_KEY, required: false } } : {}),
  };
}

/**
 * /metrics and /admin on their own listener, on loopback unless ADMIN_HOST says otherwise (a
 * container publishes it with ADMIN_HOST=0.0.0.0 and a host-side loopback port mapping). The
 * port is ADMIN_PORT, else the one beside the public port (8081), else a free one when PORT=0.
 */
export function adminListener(env: NodeJS.ProcessEnv, port: number): { adminHost: string; adminPort: number } {
  const adminPort = env.ADMIN_PORT ? Number(env.ADMIN_PORT) : port === 0 ? 0 : port + 1;
  return { adminHost: env.ADMIN_HOST ?? "127.0.0.1", adminPort };
}
