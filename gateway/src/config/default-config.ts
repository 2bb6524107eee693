/**
 * The embedded default config behind `npm start`: mock models that need no keys, plus real
 * upstreams for each provider whose key is set in the environment.
 */
import type { GatewayConfigInput } from "./schema";

type ModelInput = GatewayConfigInput["models"][number];

/** OpenAI-compatible providers the default config adds when their key is in the environment. */
const PROVIDERS: { env: string; baseUrl: string; models: [string, string][] }[] = [
  { env: "OPENAI_API_KEY", baseUrl: "https://api.openai.com/v1", models: [["gpt-4o", "gpt-4o"], ["gpt-4o-mini", "gpt-4o-mini"], ["text-embedding-3-small", "text-embedding-3-small"]] },
  { env: "DEEPSEEK_API_KEY", baseUrl: "https://api.deepseek.com/v1", models: [["deepseek-chat", "deepseek-chat"]] },
  { env: "GEMINI_API_KEY", baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai", models: [["gemini-2.5-flash", "gemini-2.5-flash"]] },
];

export function defaultConfig(env: NodeJS.ProcessEnv): GatewayConfigInput {
  const mockTarget = (name: string, ttftMs: number, interTokenMs: number) => ({
    name,
    baseUrl: `mock://${name}`,
    mock: { latencyMs: 20, ttftMs, interTokenMs, tokens: 16 },
  });
  const models: ModelInput[] = [
    { name: "mock-gpt", strategy: "latency", fallbacks: ["mock-mini"], targets: [mockTarget("mock-a", 30, 10), mockTarget("mock-b", 50, 15)] },
    { name: "mock-mini", strategy: "round-robin", targets: [mockTarget("mock-c", 10, 5)] },
    { name: "mock-embedding", targets: [mockTarget("mock-embed", 0, 0)] },
  ];
  for (const provider of PROVIDERS) {
    const apiKey = env[provider.env];
    if (!apiKey) continue;
    for (const [name, upstream] of provider.models) {
      models.push({ name, targets: [{ name: provider.env.replace(/_API_KEY$/, "").toLowerCase(), baseUrl: provider.baseUrl, apiKey, model: upstream }] });
    }
  }
  return {
    server: { host: env.HOST ?? "127.0.0.1", port: env.PORT ? Number(env.PORT) : 8080 },
    models,
  };
}
