package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua sources of the deliveries view. The writing ones run with fence.lua in front of
// them (fencedScript).

// luaDeliveriesApply adds a batch of deliveries and raises the checkpoint, all at once. A
// delivery whose position is held is skipped whole, so a replay adds nothing twice.
const luaDeliveriesApply = `
-- KEYS: checkpoint, fence, deliveries, all
-- ARGV: base, fence, checkpoint, then per delivery:
--       member (position, 8 bytes), stored delivery, account, configuration id, event id,
--       status
local cpKey, fenceKey, deliveries, all = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base = ARGV[1]
local refused = fenced(fenceKey, ARGV[2])
if refused then return redis.error_reply(refused) end
local function index(kind, value, m)
  if value ~= '' then redis.call('ZADD', base .. kind .. value, 0, m) end
end
for i = 4, #ARGV, 6 do
  local m = ARGV[i]
  if redis.call('HSETNX', deliveries, m, ARGV[i + 1]) == 1 then
    redis.call('ZADD', all, 0, m)
    index('a:', ARGV[i + 2], m)
    index('c:', ARGV[i + 3], m)
    index('e:', ARGV[i + 4], m)
    index('s:', ARGV[i + 5], m)
  end
end
raiseCheckpoint(cpKey, ARGV[3])
return 1
`

// luaDeliveriesQuery answers a page, or counts. Read-only.
const luaDeliveriesQuery = `
-- Walks the index of the filter that holds the fewest deliveries below the cursor, newest
-- first, probing the filter's other indexes for each member; reads the deliveries in all of
-- them and, when the filter has a status or a time window, checks those on them.
-- KEYS: deliveries, then the filter's indexes (the index of all when it names none)
-- ARGV: upper bound (ZRANGE BYLEX: '+' or '(' and a member), need (0: count), budget,
--       status (as a JSON string; '' for any), since seconds and nanoseconds, before seconds
--       and nanoseconds ('' for no bound)
-- Returns {done, resume member, stored deliveries...}, or when counting {done, resume
-- member, count}: when not done, the next call resumes below the member. A member costs a
-- unit of the budget, reading its delivery one more, checking it one more.
local deliveries = KEYS[1]
local upper, need, budget, status = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local sinceS, sinceNs = tonumber(ARGV[5]), tonumber(ARGV[6])
local beforeS, beforeNs = tonumber(ARGV[7]), tonumber(ARGV[8])
local counting = need == 0

local walked, fewest = nil, nil
for i = 2, #KEYS do
  local n = redis.call('ZLEXCOUNT', KEYS[i], '-', upper)
  if n == 0 then
    if counting then return { 1, '', 0 } end
    return { 1, '' }
  end
  if fewest == nil or n < fewest then walked, fewest = i, n end
end
local probes = {}
for i = 2, #KEYS do
  if i ~= walked then probes[#probes + 1] = KEYS[i] end
end
local check = status ~= '' or sinceS ~= nil or beforeS ~= nil
-- A count of one index is its size. (Counting reads no delivery without a time window to
-- check: the caller passes no status, which its index holds.)
if counting and #probes == 0 and not check then return { 1, '', fewest } end

local function earlier(s1, ns1, s2, ns2) return s1 < s2 or (s1 == s2 and ns1 < ns2) end

-- selects reads the status and the time of a stored delivery without decoding it: in JSON a
-- quote inside a string is escaped, so '"status":' and '"at_s":' unescaped are the object's
-- own keys, and status (the JSON string the writer wrote) matches byte for byte.
local function selects(blob)
  if status ~= '' and not string.find(blob, '"status":' .. status, 1, true) then return false end
  if sinceS or beforeS then
    local s, ns = string.match(blob, '"at_s":(%-?%d+),"at_ns":(%d+)')
    s, ns = tonumber(s), tonumber(ns)
    if sinceS and earlier(s, ns, sinceS, sinceNs) then return false end
    if beforeS and not earlier(s, ns, beforeS, beforeNs) then return false end
  end
  return true
end

local function inProbes(m)
  for _, k in ipairs(probes) do
    if not redis.call('ZSCORE', k, m) then return false end
  end
  return true
end

local out, spent, last, count = { 0, '' }, 0, nil, 0
local function finish(done, resume)
  out[1], out[2] = done, resume
  if counting then out[3] = count end
  return out
end
local size = need
if counting then
  size = 1024
elseif #probes > 0 or check then
  size = math.min(math.max(need * 2, 64), 1024)
end
while true do
  local chunk = redis.call('ZRANGE', KEYS[walked], upper, '-', 'BYLEX', 'REV', 'LIMIT', 0, size)
  for _, m in ipairs(chunk) do
    if spent >= budget then return finish(0, last) end
    spent, last = spent + 1, m
    if inProbes(m) then
      if counting and not check then
        count = count + 1
      else
        -- An index member without its delivery is left by a Reset that failed midway.
        local blob = redis.call('HGET', deliveries, m)
        spent = spent + (check and 2 or 1)
        if blob and (not check or selects(blob)) then
          if counting then
            count = count + 1
          else
            out[#out + 1] = blob
            if #out - 2 >= need then return finish(1, '') end
          end
        end
      end
    end
  end
  if #chunk < size then return finish(1, '') end
  upper = '(' .. chunk[#chunk]
  size = math.min(size * 4, 4096)
end
`

type deliveryScripts struct {
	apply, query, reset, claim *goredis.Script
}

func newDeliveryScripts() deliveryScripts {
	return deliveryScripts{
		apply: fencedScript(luaDeliveriesApply), query: goredis.NewScript(luaDeliveriesQuery),
		reset: fencedScript(luaReset), claim: fencedScript(luaClaim),
	}
}
