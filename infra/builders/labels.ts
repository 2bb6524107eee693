/**
 * Kubernetes labels for everything the components create. Selector labels are the stable subset:
 * a Deployment's selector is immutable, so it never carries labels that could change (version).
 */
export const APP_NAME = "ai-gateway";

/** The part of the stack a workload belongs to: the gateway itself, its state Redis or its cache Redis. */
export type AppComponent = "gateway" | "redis" | "cache-redis";

/** Labels a selector may match on: name, instance (the component's name) and part. */
export function selectorLabels(instance: string, component: AppComponent): Record<string, string> {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
  };
}

/** The full label set: selector labels plus ownership labels and the caller's extras. */
export function componentLabels(
  instance: string,
  component: AppComponent,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...extra,
    ...selectorLabels(instance, component),
    "app.kubernetes.io/part-of": APP_NAME,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}
