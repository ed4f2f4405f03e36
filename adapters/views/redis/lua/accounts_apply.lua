-- Stores a batch of accounts, in order, with their user and token lookups, and raises the
-- checkpoint, all at once.
-- KEYS: checkpoint, fence, accounts, users, tokens
-- ARGV: fence, checkpoint, then per step
--       'A', name, stored account | 'U', user, account (an active user)
--       | 'R', user, account (a removed user) | 'T', token id, stored owner
local cpKey, fenceKey, accounts, users, tokens = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local refused = fenced(fenceKey, ARGV[1])
if refused then return redis.error_reply(refused) end
for i = 3, #ARGV, 3 do
  local op, key, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if op == 'A' then
    redis.call('HSET', accounts, key, value)
  elseif op == 'U' then
    redis.call('HSET', users, key, value)
  elseif op == 'R' then
    -- The name may have moved to another account since; only its own account drops it.
    if redis.call('HGET', users, key) == value then redis.call('HDEL', users, key) end
  elseif op == 'T' then
    redis.call('HSET', tokens, key, value)
  end
end
raiseCheckpoint(cpKey, ARGV[2])
return 1
