/**
 * Load-time checks that a model's targets can serve it through the translation layer: every
 * target's provider has a translator for some route, and each fallback can serve at least one
 * route its model serves (a fallback that never could would only show up per request).
 */
import { providerFor, type ProviderName } from "../providers";
import { routesServedBy } from "../translate/registry";
import type { GatewayConfig } from "./schema";

/** The routes a provider's targets can serve (the translator table; tests pass another). */
export type RoutesOf = (provider: ProviderName, responsesApi?: "native" | "translate") => readonly string[];

const fromRegistry: RoutesOf = (provider, responsesApi) => routesServedBy(providerFor(provider, responsesApi));

/** The routes some target of the model can serve. */
export function routesOfModel(model: GatewayConfig["models"][number], routesOf: RoutesOf = fromRegistry): Set<string> {
  const routes = new Set<string>();
  for (const target of model.targets) for (const route of routesOf(target.provider, target.responsesApi)) routes.add(route);
  return routes;
}

export function routeProblems(config: GatewayConfig, routesOf: RoutesOf = fromRegistry): string[] {
  const problems: string[] = [];
  const byName = new Map(config.models.map((model) => [model.name, routesOfModel(model, routesOf)]));
  config.models.forEach((model, i) => {
    model.targets.forEach((target, j) => {
      if (routesOf(target.provider).length === 0) problems.push(`models[${i}].targets[${j}].provider: no route can be translated to "${target.provider}"`);
      if (target.responsesApi === "native" && target.provider !== "openai") problems.push(`models[${i}].targets[${j}].responsesApi: "native" is for OpenAI-compatible targets that serve /responses (provider: openai)`);
    });
    const own = byName.get(model.name)!;
    model.fallbacks.forEach((fallback, j) => {
      const theirs = byName.get(fallback);
      if (theirs && own.size > 0 && ![...own].some((route) => theirs.has(route))) {
        problems.push(`models[${i}].fallbacks[${j}]: "${fallback}" serves none of the routes "${model.name}" serves (${[...own].join(", ")})`);
      }
    });
  });
  return problems;
}
