/**
 * Names that are also properties of every plain object (`constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`, …). A plan, team, key, model or target with such a name would be found by
 * `name in record` or `record[name]` without being configured (a key on plan `constructor` got
 * `Object`'s "limits": none), and `__proto__` as a record key replaces the record's prototype.
 * They are refused wherever a name is given, and lookups use own properties only.
 */

export const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

export const RESERVED_NAME_MESSAGE = `is a reserved name (${["constructor", "__proto__", "toString", "hasOwnProperty", "…"].join(", ")}); choose another`;

/** `record[name]` when `name` is the record's own entry; undefined for inherited properties. */
export function ownEntry<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

function ownKeys(value: unknown): string[] {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
}

function items(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => v !== null && typeof v === "object") : [];
}

/**
 * Every reserved name in a raw config (before the schema builds records from it: zod would turn a
 * `__proto__` member into the record's prototype), with its field path.
 */
export function reservedNameProblems(raw: unknown): string[] {
  const problems: string[] = [];
  const check = (name: unknown, path: string) => {
    if (typeof name === "string" && isReservedName(name)) problems.push(`${path}: "${name}" ${RESERVED_NAME_MESSAGE}`);
  };
  const config = (raw ?? {}) as Record<string, unknown>;
  for (const section of ["plans", "teams", "pricing"]) for (const name of ownKeys(config[section])) check(name, `${section}.${name}`);
  items(config.models).forEach((model, i) => {
    check(model.name, `models[${i}].name`);
    items(model.targets).forEach((target, j) => check(target.name, `models[${i}].targets[${j}].name`));
    if (Array.isArray(model.fallbacks)) model.fallbacks.forEach((f, j) => check(f, `models[${i}].fallbacks[${j}]`));
  });
  items(config.keys).forEach((key, i) => {
    for (const field of ["name", "team", "plan"]) check(key[field], `keys[${i}].${field}`);
  });
  return problems;
}
