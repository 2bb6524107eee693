/**
 * The Redis side of ./memory-store.ts: Lua scripts that run atomically, so N replicas sharing
 * one Redis admit exactly the limit. Time comes from Redis (TIME), one clock for the fleet.
 * The GCRA steps mirror ./gcra.ts; TATs are stored with %.17g so floats round-trip exactly.
 *
 * ADMIT_LUA and SETTLE_LUA take a batch: every request queued during one event-loop turn
 * (./script-batcher.ts), evaluated one after the other in arrival order within one atomic run,
 * so each request sees the state the previous ones left (as if each were its own script call),
 * at the one instant read by TIME for the run. On one Redis a batch holds any keys; on a Redis
 * Cluster the store sends one batch per slot (./redis-store.ts).
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
 * Budget reservations: per budget key a sorted set of `leaseId|nano` members scored by expiry
 * (renewed like concurrency leases, so a replica that dies mid-request frees them), and a
 * running total of the live ones under a second key. A missing total is rebuilt from the set.
 */
const RESERVATIONS = `
local function amountOf(member)
  return tonumber(string.match(member, '|(%d+)$')) or 0
end
local holds, dirtyHolds = {}, {}
local function held(setKey, totalKey)
  local h = holds[totalKey]
  if h == nil then
    local cut = math.floor(now)
    local expired = redis.call('ZRANGEBYSCORE', setKey, '-inf', cut)
    local raw = redis.call('GET', totalKey)
    if raw then
      h = tonumber(raw)
      for _, m in ipairs(expired) do h = h - amountOf(m) end
    else
      h = 0
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', setKey, '(' .. cut, '+inf')) do h = h + amountOf(m) end
    end
    if #expired > 0 then
      redis.call('ZREMRANGEBYSCORE', setKey, '-inf', cut)
      dirtyHolds[totalKey] = true
    end
    if h < 0 then h = 0 end
    holds[totalKey] = h
  end
  return h
end
`;

/**
 * A batch of admissions. KEYS: each request's keys, request after request. ARGV[1]: the number
 * of requests, then each request's segment, request after request. A segment (and its keys) is
 * the single-request layout:
 *   keys: per budget its spend key, reservation set and reservation total, then rate keys,
 *         then [concurrency key]
 *   args: nBudgets, nRates, hasConcurrency, leaseId, leaseTtlMs, then limitNano, reserveNano per budget,
 *         then limit, periodMs, cost, sticky per rate, then limit, leaseId, leaseTtlMs for
 *         concurrency.
 * Returns one reply per request, in order; a reply is
 *   {allowed, failKind (0 none, 1 budget, 2 rate, 3 concurrency), failIndex (1-based),
 *    retryAfterMs (-1: never), spent per budget..., held per budget...,
 *    remaining and resetMs per rate...}.
 * A request is all or nothing, except that a refusal still consumes its sticky rates (the
 * request counts against requests per minute).
 */
export const ADMIT_LUA = `${NOW}${BATCH_VALUES}${RESERVATIONS}
-- Concurrency slots per key: expired leases swept and the set counted once per batch; the
-- batch's new leases added in one ZADD at the end.
local slots, newLeases, leaseTtls = {}, {}, {}
local newHolds, holdTtl = {}, 0
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
  for setKey, members in pairs(newHolds) do
    redis.call('ZADD', setKey, unpack(members))
    redis.call('PEXPIRE', setKey, holdTtl)
  end
  for totalKey in pairs(dirtyHolds) do
    local h = holds[totalKey]
    if h <= 0 then redis.call('DEL', totalKey)
    else redis.call('SET', totalKey, string.format('%.0f', h), 'PX', holdTtl) end
  end
end
-- One request: its keys follow KEYS[k], its segment starts at ARGV[a].
-- Returns its reply and where the next request's keys and segment start.
local function admit(k, a)
  local nb, nr, nc, leaseId = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  holdTtl = tonumber(ARGV[a + 4])
  a = a + 5
  local failKind, failIndex, retry = 0, 0, 0
  local spent, helds, reserves = {}, {}, {}
  for i = 1, nb do
    local base = k + (i - 1) * 3
    local s = value(KEYS[base + 1])
    local limit, reserve = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
    local h = 0
    if reserve > 0 then h = held(KEYS[base + 2], KEYS[base + 3]) end
    spent[i], helds[i], reserves[i] = s, h, reserve
    if failKind == 0 and (s >= limit or s + h + reserve > limit) then
      failKind, failIndex = 1, i
      -- Waiting helps only when other requests' reservations are what is in the way.
      if s >= limit or s + reserve > limit then retry = -1 else retry = 1000 end
    end
    a = a + 2
  end
  local rk = k + nb * 3
  local tats, newTats, intervals, periods, limits, fits, sticky = {}, {}, {}, {}, {}, {}, {}
  for j = 1, nr do
    local limit, period, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    sticky[j] = ARGV[a + 3] == '1'
    a = a + 4
    local interval = period / limit
    local tat = value(KEYS[rk + j])
    if tat < now then tat = now end
    local newTat = tat + cost * interval
    fits[j] = true
    if cost > limit then fits[j] = false
    elseif newTat - period > now + 0.001 then fits[j] = false end
    if failKind == 0 and not fits[j] then
      failKind, failIndex = 2, j
      if cost > limit then retry = -1 else retry = newTat - period - now end
    end
    tats[j], newTats[j], intervals[j], periods[j], limits[j] = tat, newTat, interval, period, limit
  end
  if nc == 1 then
    local key = KEYS[rk + nr + 1]
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
  if failKind == 0 then
    for i = 1, nb do
      if reserves[i] > 0 then
        local base = k + (i - 1) * 3
        local setKey, totalKey = KEYS[base + 2], KEYS[base + 3]
        holds[totalKey] = helds[i] + reserves[i]
        dirtyHolds[totalKey] = true
        local members = newHolds[setKey] or {}
        members[#members + 1] = math.floor(now + holdTtl)
        members[#members + 1] = leaseId .. '|' .. string.format('%.0f', reserves[i])
        newHolds[setKey] = members
      end
    end
  end
  local out = {failKind == 0 and 1 or 0, failKind, failIndex, math.ceil(retry)}
  for i = 1, nb do out[#out + 1] = spent[i] end
  for i = 1, nb do out[#out + 1] = helds[i] end
  for j = 1, nr do
    local tat = tats[j]
    if failKind == 0 or (sticky[j] and fits[j]) then
      tat = newTats[j]
      setTat(KEYS[rk + j], tat)
    end
    local free = math.floor((periods[j] - (tat - now)) / intervals[j] + 0.000001)
    if free < 0 then free = 0 elseif free > limits[j] then free = limits[j] end
    out[#out + 1] = free
    out[#out + 1] = math.ceil(tat - now)
  end
  return out, rk + nr + nc, a
end
${eachRequest("admit")}`;

/**
 * A batch of settlements, laid out as ADMIT_LUA's: ARGV[1] the number of requests, then per
 * request its keys and segment in the single-request layout:
 *   keys: rate keys, [concurrency key], spend keys, then per reservation its set and total
 *   args: nRates, hasConcurrency, nSpends, nReservations, then limit, periodMs, delta per rate,
 *         then leaseId, then addNano, ttlMs per spend, then the member per reservation.
 * Returns one reply per request, in order: its spend totals after adding. A spend that is not
 * an integer in [0, MAX_ADD] (a bad usage block) is not added, and its reply is -1: it fails
 * alone, never the batch.
 */
export const SETTLE_LUA = `${NOW}${BATCH_VALUES}
local MAX_ADD = 1e15
local function amountOf(member)
  return tonumber(string.match(member, '|(%d+)$')) or 0
end
-- Leases to free and spend to add, per key, sent once at the end; each reply still gets the
-- running total its request would have seen alone.
local freed, spendAdds, spendTtls = {}, {}, {}
local function finish()
  writeTats()
  for key, leases in pairs(freed) do redis.call('ZREM', key, unpack(leases)) end
  for key, add in pairs(spendAdds) do
    local total = redis.call('INCRBY', key, string.format('%.0f', add))
    if total == add then redis.call('PEXPIRE', key, spendTtls[key]) end
  end
end
local function release(setKey, totalKey, member)
  if redis.call('ZREM', setKey, member) == 0 then return end
  if not redis.call('GET', totalKey) then return end
  local h = redis.call('DECRBY', totalKey, amountOf(member))
  if h <= 0 or redis.call('ZCARD', setKey) == 0 then redis.call('DEL', totalKey) end
end
local function settle(k, a)
  local nr, nc, ns, nv = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  a = a + 4
  for j = 1, nr do
    local key = KEYS[k + j]
    local limit, period, delta = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    a = a + 3
    if limit and period and delta and limit > 0 and delta == delta and math.abs(delta) < 1e12 then
      local tat = value(key)
      if tat < now then tat = now end
      setTat(key, tat + delta * (period / limit))
    end
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
    if add == nil or add ~= add or add < 0 or add > MAX_ADD or add ~= math.floor(add) then
      out[i] = -1
    else
      if spendAdds[key] == nil then
        -- The key's TTL is set when this batch creates it, as INCRBY on a new key did.
        spendAdds[key], spendTtls[key] = 0, ARGV[a + 1]
      end
      spendAdds[key] = spendAdds[key] + add
      out[i] = value(key) + spendAdds[key]
    end
    a = a + 2
  end
  local vk = k + nr + nc + ns
  for i = 1, nv do
    release(KEYS[vk + (i - 1) * 2 + 1], KEYS[vk + (i - 1) * 2 + 2], ARGV[a])
    a = a + 1
  end
  return out, vk + nv * 2, a
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
