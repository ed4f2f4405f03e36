-- Applies recordings and deletions, in order, as one step of an Apply's chain; the last step
-- of the chain also raises the checkpoint, so the checkpoint moves with the data before it.
-- KEYS: checkpoint, fence, chain, entries, ids, types
-- ARGV: base, fence, chain token, step, checkpoint ('' except in the last step), then per
--       change 'R', id, stored entry | 'D', id, ''
local cpKey, fenceKey, chainKey, entries, ids, types = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base, token, step, checkpoint = ARGV[1], ARGV[3], ARGV[4], ARGV[5]
local refused = fenced(fenceKey, ARGV[2]) or chainBroken(chainKey, token, step)
if refused then return redis.error_reply(refused) end

-- Recordings are written in bulk: one HMGET tells which ids are held (recording is
-- idempotent), then the new entries go out in one HSET per hash and one ZADD per index
-- (flush). Most of the cost of a call from Lua is the call, and a script's entries share
-- most of their indexes. A deletion flushes first, so that it sees every recording before it.
local held = {}
do
  local recorded = {}
  for i = 6, #ARGV, 3 do
    if ARGV[i] == 'R' then recorded[#recorded + 1] = ARGV[i + 1] end
  end
  if #recorded > 0 then
    local got = redis.call('HMGET', ids, unpack(recorded))
    for j, id in ipairs(recorded) do
      if got[j] then held[id] = true end
    end
  end
end

local newIds, newEntries, adds, seenTypes = {}, {}, {}, {}
local function flush()
  if #newIds == 0 then return end
  redis.call('HSET', ids, unpack(newIds))
  redis.call('HSET', entries, unpack(newEntries))
  for k, members in pairs(adds) do
    redis.call('ZADD', k, unpack(members))
  end
  newIds, newEntries, adds = {}, {}, {}
end

for i = 6, #ARGV, 3 do
  local id = ARGV[i + 1]
  if ARGV[i] == 'R' then
    if not held[id] then
      held[id] = true
      local blob = ARGV[i + 2]
      local key, level, _, typ, account, resid, restype, service, host = struct.unpack(ENTRY, blob)
      local pos = string.sub(key, 13)
      newIds[#newIds + 1], newIds[#newIds + 2] = id, pos
      newEntries[#newEntries + 1], newEntries[#newEntries + 2] = pos, blob
      for _, k in ipairs(indexKeys(base, level, typ, account, resid, restype, service, host)) do
        local members = adds[k]
        if members == nil then
          adds[k] = { 0, key }
        else
          members[#members + 1], members[#members + 2] = 0, key
        end
      end
      if not seenTypes[typ] then
        redis.call('SADD', types, typ)
        seenTypes[typ] = true
      end
    end
  else
    flush()
    removeID(base, entries, ids, id)
    held[id] = false
  end
end
flush()

if checkpoint == '' then
  chainNext(chainKey, token, step)
  return 0
end
local old = redis.call('GET', cpKey)
if not old or decimalLess(old, checkpoint) then
  redis.call('SET', cpKey, checkpoint)
end
redis.call('DEL', chainKey)
return 1
