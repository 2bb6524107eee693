/**
 * Components take `pulumi.Input<T>`, but a value given plainly can still be checked before any
 * resource exists (and fail `pulumi preview` with the problem listed, not a stack trace from an
 * apply). This tells the two apart without unwrapping anything.
 */
import * as pulumi from "@pulumi/pulumi";

/** The value when it is fully known now (no Output or Promise anywhere inside), else undefined. */
export function knownValue<T>(input: pulumi.Input<T>): T | undefined {
  return hasPending(input) ? undefined : (input as T);
}

function hasPending(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return true;
  if (Array.isArray(value)) return value.some(hasPending);
  if (value !== null && typeof value === "object") return Object.values(value).some(hasPending);
  return false;
}
