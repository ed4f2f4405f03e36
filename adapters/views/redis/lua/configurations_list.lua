-- Reads the stored configurations of one account, in one snapshot, as id, value pairs.
-- KEYS: configurations, the account's set of ids.
local ids = redis.call('SMEMBERS', KEYS[2])
local out = {}
-- unpack is bounded by Lua's stack, so HMGET goes in slices.
for i = 1, #ids, 1000 do
  local got = redis.call('HMGET', KEYS[1], unpack(ids, i, math.min(#ids, i + 999)))
  for j = 1, #got do
    local v = got[j] -- false where the id has no configuration
    if v then
      out[#out + 1] = ids[i + j - 1]
      out[#out + 1] = v
    end
  end
end
return out
