/** Reads the gateway config: a YAML file, or the embedded default when none is given. */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { defaultConfig, openProxyProblem } from "./default-config";
import { interpolateEnv } from "./interpolate";
import type { GatewayConfig } from "./schema";
import { ConfigError, validateConfig } from "./validate";

/** Parses YAML text, interpolates `${ENV}` and validates. */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  const missing: string[] = [];
  const interpolated = interpolateEnv(raw, env, "", missing);
  if (missing.length > 0) throw new ConfigError(missing);
  return validateConfig(interpolated);
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseConfigText(text, env);
}

/** The file named by `--config FILE` or GATEWAY_CONFIG; null for the embedded default. */
export function configFileFrom(argv: string[], env: NodeJS.ProcessEnv = process.env): string | null {
  const flag = argv.indexOf("--config");
  const file = flag >= 0 ? argv[flag + 1] : env.GATEWAY_CONFIG;
  if (flag >= 0 && !file) throw new ConfigError(["--config needs a file path"]);
  return file || null;
}

/** The file from `--config FILE` or GATEWAY_CONFIG, else the embedded default (refused when it would be an open proxy). */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const file = configFileFrom(argv, env);
  if (file) return loadConfigFile(file, env);
  const openProxy = openProxyProblem(env);
  if (openProxy) throw new ConfigError([openProxy]);
  return validateConfig(defaultConfig(env));
}
