/** Reads the gateway config: a YAML file, or the embedded default when none is given. */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { defaultConfig } from "./default-config";
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

/** The file from `--config FILE` or GATEWAY_CONFIG, else the embedded default. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const flag = argv.indexOf("--config");
  const file = flag >= 0 ? argv[flag + 1] : env.GATEWAY_CONFIG;
  if (flag >= 0 && !file) throw new ConfigError(["--config needs a file path"]);
  return file ? loadConfigFile(file, env) : validateConfig(defaultConfig(env));
}
