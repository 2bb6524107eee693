/**
 * Why traffic control refused a request, carried on the error it throws (the access log's
 * `refusal` field; the same values as `aigw_rejections_total{reason}`), without widening the
 * error type every other module shares.
 */
const reasons = new WeakMap<object, string>();

/** Tags a refusal error with its reason and returns it. */
export function refused<E extends object>(error: E, reason: string): E {
  reasons.set(error, reason);
  return error;
}

/** The reason a refusal error was tagged with; undefined for any other error. */
export function refusalReasonOf(error: unknown): string | undefined {
  return error !== null && typeof error === "object" ? reasons.get(error) : undefined;
}
