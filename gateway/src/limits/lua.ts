/**
 * The Redis side of ./memory-store.ts: Lua scripts that run atomically, so N replicas sharing
 * one Redis admit exactly the limit. Time comes from Redis (TIME), one clock for the fleet.
 * The GCRA steps mirror ./gcra.ts; TATs are stored with %.17g so floats round-trip exactly.
 *
 * ADMIT_LUA and SETTLE_LUA take a batch: every request queued during one event-loop turn
 * (./script-batcher.ts), evaluated one after the other in arrival order within one atomic run,
 * so each request sees the state the previous ones left (as if each were its own script call),
 * at the one instant read by TIME for the run. Redis Cluster is unsupported, so the keys of
 * several requests may share one script.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/** Runs `fn(k, a)` for each request of the batch (ARGV[1] of them), collecting one reply each. */
const eachRequest = (fn: string) => `
local replies, k, a = {}, 0, 2
for r = 1, tonumber(ARGV[1]) do
  replies[r], k, a = ${fn}(k, a)
end
return replies
`;

/**
 * A batch of admissions. KEYS: each request's keys, request after request. ARGV[1]: the number
 * of requests, then each request's segment, request after request. A segment (and its keys) is
 * the single-request layout:
 *   keys: budget keys, rate keys, [concurrency key]
 *   args: nBudgets, nRates, hasConcurrency, then limitNano per budget, then limit, periodMs,
 *         cost per rate, then limit, leaseId, leaseTtlMs for concurrency.
 * Returns one reply per request, in order; a reply is
 *   {allowed, failKind (0 none, 1 budget, 2 rate, 3 concurrency), failIndex (1-based),
 *    retryAfterMs (-1: never), spent per budget..., remaining and resetMs per rate...}.
 * A request is all or nothing: a refusal writes none of its limits.
 */
export const ADMIT_LUA = `${NOW}
-- One request: its keys follow KEYS[k], its segment starts at ARGV[a].
-- Returns its reply and where the next request's keys and segment start.
local function admit(k, a)
  local nb, nr, nc = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local failKind, failIndex, retry = 0, 0, 0
  local spent = {}
  for i = 1, nb do
    local s = tonumber(redis.call('GET', KEYS[k + i]) or '0')
    spent[i] = s
    if failKind == 0 and s >= tonumber(ARGV[a]) then failKind, failIndex, retry = 1, i, -1 end
    a = a + 1
  end
  local tats, newTats, intervals, periods, limits = {}, {}, {}, {}, {}
  for j = 1, nr do
    local limit, period, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    a = a + 3
    local interval = period / limit
    local tat = tonumber(redis.call('GET', KEYS[k + nb + j]) or '0')
    if tat < now then tat = now end
    local newTat = tat + cost * interval
    if failKind == 0 then
      if cost > limit then failKind, failIndex, retry = 2, j, -1
      elseif newTat - period > now + 0.001 then failKind, failIndex, retry = 2, j, newTat - period - now end
    end
    tats[j], newTats[j], intervals[j], periods[j], limits[j] = tat, newTat, interval, period, limit
  end
  if nc == 1 then
    local key = KEYS[k + nb + nr + 1]
    local limit, lease, ttl = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
    a = a + 3
    redis.call('ZREMRANGEBYSCORE', key, '-inf', math.floor(now))
    if failKind == 0 then
      if redis.call('ZCARD', key) >= limit then
        failKind, failIndex, retry = 3, 1, 1000
      else
        redis.call('ZADD', key, math.floor(now + ttl), lease)
        redis.call('PEXPIRE', key, ttl)
      end
    end
  end
  local out = {failKind == 0 and 1 or 0, failKind, failIndex, math.ceil(retry)}
  for i = 1, nb do out[#out + 1] = spent[i] end
  for j = 1, nr do
    local tat = tats[j]
    if failKind == 0 then
      tat = newTats[j]
      redis.call('SET', KEYS[k + nb + j], string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1)
    end
    local free = math.floor((periods[j] - (tat - now)) / intervals[j] + 0.000001)
    if free < 0 then free = 0 elseif free > limits[j] then free = limits[j] end
    out[#out + 1] = free
    out[#out + 1] = math.ceil(tat - now)
  end
  return out, k + nb + nr + nc, a
end
${eachRequest("admit")}`;

/**
 * A batch of settlements, laid out as ADMIT_LUA's: ARGV[1] the number of requests, then per
 * request its keys and segment in the single-request layout:
 *   keys: rate keys, [concurrency key], spend keys
 *   args: nRates, hasConcurrency, nSpends, then limit, periodMs, delta per rate, then leaseId,
 *         then addNano, ttlMs per spend.
 * Returns one reply per request, in order: its spend totals after adding.
 */
export const SETTLE_LUA = `${NOW}
local function settle(k, a)
  local nr, nc, ns = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  for j = 1, nr do
    local key = KEYS[k + j]
    local limit, period, delta = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    a = a + 3
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    tat = tat + delta * (period / limit)
    if tat <= now then redis.call('DEL', key)
    else redis.call('SET', key, string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1) end
  end
  if nc == 1 then
    redis.call('ZREM', KEYS[k + nr + 1], ARGV[a])
    a = a + 1
  end
  local out = {}
  for i = 1, ns do
    local key = KEYS[k + nr + nc + i]
    local add = tonumber(ARGV[a])
    local total = redis.call('INCRBY', key, add)
    if total == add then redis.call('PEXPIRE', key, ARGV[a + 1]) end
    a = a + 2
    out[i] = total
  end
  return out, k + nr + nc + ns, a
end
${eachRequest("settle")}`;

/**
 * Extends live concurrency leases (a replica that crashes stops renewing; its slots expire).
 * KEYS: concurrency keys; ARGV: leaseTtlMs, then one lease id per key.
 */
export const RENEW_LUA = `${NOW}
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], ARGV[i + 1]) then
    redis.call('ZADD', KEYS[i], 'XX', math.floor(now + ttl), ARGV[i + 1])
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return #KEYS
`;
