/**
 * Every Redis key the gateway writes, named in one place. New keys go here too.
 *
 * Keys carry a Redis Cluster hash tag (the part in `{…}`): Redis places a key by its tag alone,
 * so keys with one tag share a slot and one Lua script may touch them all. The tags follow what
 * the scripts need together:
 *   {k:<key id>}   a client key's rate limits, concurrency slots, spend and budget reservations
 *                  (one admission script touches them all)
 *   {t:<team>}     a team's spend and reservations: its own slot, so a large team does not pull
 *                  every one of its keys onto one shard. An admission of a key with a team budget
 *                  then spans two slots: on a cluster the store checks the key's slot first and
 *                  the team's after, and undoes the first when the second refuses (see
 *                  ../limits/redis-store.ts; on one Redis it stays one atomic script)
 *   {ip:<address>} the per-IP limit and the admin throttle of one address
 *   {keys}         runtime keys: records, names, disabled set, rotated-out secrets, the change
 *                  version and the admin audit list (one script changes a key and audits it)
 *   {fleet}        the replicas' heartbeats (../limits/fleet-registry.ts)
 * The configured `keyPrefix` goes in front and must not hold braces (it would become the tag).
 * Keys of the limit store are logical here; the store adds the prefix.
 */

export const redisKeys = {
  requestsPerMinute: (keyId: string) => `rl:{k:${keyId}}:rpm`,
  tokensPerMinute: (keyId: string) => `rl:{k:${keyId}}:tpm`,
  concurrency: (keyId: string) => `conc:{k:${keyId}}`,
  keySpend: (keyId: string, month: string) => `spend:{k:${keyId}}:${month}`,
  teamSpend: (team: string, month: string) => `teamspend:{t:${team}}:${month}`,
  /** A budget's outstanding reservations (sorted set) and their running total, next to its spend key (same tag). */
  reservations: (budgetKey: string) => `${budgetKey}:resv`,
  reservedTotal: (budgetKey: string) => `${budgetKey}:held`,
  perIp: (address: string) => `ip:{ip:${address}}`,
  adminAuth: (address: string) => `admin-auth:{ip:${address}}`,
  runtimeKeyRecords: (prefix: string) => `${prefix}{keys}:records`,
  runtimeKeyNames: (prefix: string) => `${prefix}{keys}:names`,
  runtimeKeysDisabled: (prefix: string) => `${prefix}{keys}:disabled`,
  /** Rotated-out secrets still honoured until their overlap ends. */
  runtimeKeysPrevious: (prefix: string) => `${prefix}{keys}:previous`,
  /** Bumped by every key change: replicas poll it. */
  runtimeKeysVersion: (prefix: string) => `${prefix}{keys}:version`,
  /** Admin audit events, written in the same script as the key change they record (same tag). */
  adminAudit: (prefix: string) => `${prefix}{keys}:audit`,
  /** Daily spend rollups: one hash per UTC day, written by HINCRBY alone (no tag needed). */
  spendDay: (prefix: string, date: string) => `${prefix}spendday:${date}`,
  fleet: (prefix: string) => `${prefix}{fleet}:replicas`,
  /** Stored Responses API answers: one key per command, no tag. */
  storedResponse: (prefix: string, id: string) => `${prefix}response:${id}`,
  /** Cache entries: one key per command, so no tag (they spread over every slot). */
  cacheEntry: (prefix: string, cacheKey: string) => `${prefix}cache:${cacheKey}`,
} as const;

/** Why a key prefix cannot be used on a cluster, or null. */
export function keyPrefixProblem(prefix: string): string | null {
  return /[{}]/.test(prefix) ? "must not contain '{' or '}': Redis Cluster would take it as every key's hash tag, putting all state in one slot" : null;
}
