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

/**
 * Runs `fn(k, a)` for each request of the batch (ARGV[1] of them), collecting one reply each,
 * then the script's `finish()`, which writes what the batch changed.
 */
const eachRequest = (fn: string) => `
local replies, k, a = {}, 0, 2
for r = 1, tonumber(ARGV[1]) do
  replies[r], k, a = ${fn}(k, a)
end
finish()
return replies
`;

/**
 * Values of string keys (TATs, spend) read once per batch, and TATs written once at its end:
 * requests of one client key share its keys, so a batch of 64 costs a few commands, not 64 ×
 * 9. The script is atomic, so no one sees the values in between.
 */
const BATCH_VALUES = `
local values, dirtyTats = {}, {}
local function value(key)
  local v = values[key]
  if v == nil then
    v = tonumber(redis.call('GET', key) or '0')
    values[key] = v
  end
  return v
end
local function setTat(key, tat)
  values[key] = tat
  dirtyTats[key] = true
end
local function writeTats()
  for key in pairs(dirtyTats) do
    local tat = values[key]
    if tat <= now then redis.call('DEL', key)
    else redis.call('SET', key, string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1) end
  end
end
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
export const ADMIT_LUA = `${NOW}${BATCH_VALUES}
-- Concurrency slots per key: expired leases swept and the set counted once per batch; the
-- batch's new leases added in one ZADD at the end.
local slots, newLeases, leaseTtls = {}, {}, {}
local function heldSlots(key)
  local held = slots[key]
  if held == nil then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', math.floor(now))
    held = redis.call('ZCARD', key)
    slots[key] = held
  end
  return held
end
local function finish()
  writeTats()
  for key, members in pairs(newLeases) do
    redis.call('ZADD', key, unpack(members))
    redis.call('PEXPIRE', key, leaseTtls[key])
  end
end
-- One request: its keys follow KEYS[k], its segment starts at ARGV[a].
-- Returns its reply and where the next request's keys and segment start.
local function admit(k, a)
  local nb, nr, nc = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local failKind, failIndex, retry = 0, 0, 0
  local spent = {}
  for i = 1, nb do
    local s = value(KEYS[k + i])
    spent[i] = s
    if failKind == 0 and s >= tonumber(ARGV[a]) then failKind, failIndex, retry = 1, i, -1 end
    a = a + 1
  end
  local tats, newTats, intervals, periods, limits = {}, {}, {}, {}, {}
  for j = 1, nr do
    local limit, period, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    a = a + 3
    local interval = period / limit
    local tat = value(KEYS[k + nb + j])
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
    local held = heldSlots(key)
    if failKind == 0 then
      if held >= limit then
        failKind, failIndex, retry = 3, 1, 1000
      else
        slots[key] = held + 1
        local members = newLeases[key] or {}
        members[#members + 1] = math.floor(now + ttl)
        members[#members + 1] = lease
        newLeases[key], leaseTtls[key] = members, ttl
      end
    end
  end
  local out = {failKind == 0 and 1 or 0, failKind, failIndex, math.ceil(retry)}
  for i = 1, nb do out[#out + 1] = spent[i] end
  for j = 1, nr do
    local tat = tats[j]
    if failKind == 0 then
      tat = newTats[j]
      setTat(KEYS[k + nb + j], tat)
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
export const SETTLE_LUA = `${NOW}${BATCH_VALUES}
-- Leases to free and spend to add, per key, sent once at the end; each reply still gets the
-- running total its request would have seen alone.
local freed, spendAdds, spendTtls = {}, {}, {}
local function finish()
  writeTats()
  for key, leases in pairs(freed) do redis.call('ZREM', key, unpack(leases)) end
  for key, add in pairs(spendAdds) do
    local total = redis.call('INCRBY', key, add)
    if total == add then redis.call('PEXPIRE', key, spendTtls[key]) end
  end
end
local function settle(k, a)
  local nr, nc, ns = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  for j = 1, nr do
    local key = KEYS[k + j]
    local limit, period, delta = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    a = a + 3
    local tat = value(key)
    if tat < now then tat = now end
    setTat(key, tat + delta * (period / limit))
  end
  if nc == 1 then
    local key = KEYS[k + nr + 1]
    local leases = freed[key] or {}
    leases[#leases + 1] = ARGV[a]
    freed[key] = leases
    a = a + 1
  end
  local out = {}
  for i = 1, ns do
    local key = KEYS[k + nr + nc + i]
    local add = tonumber(ARGV[a])
    if spendAdds[key] == nil then
      -- The key's TTL is set when this batch creates it, as INCRBY on a new key did.
      spendAdds[key], spendTtls[key] = 0, ARGV[a + 1]
    end
    spendAdds[key] = spendAdds[key] + add
    out[i] = value(key) + spendAdds[key]
    a = a + 2
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
