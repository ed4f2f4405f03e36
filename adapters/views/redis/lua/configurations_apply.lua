-- Applies a batch of configuration changes, in order, and raises the checkpoint, all at once.
-- KEYS: checkpoint, fence, configurations, owners, disabled
-- ARGV: base, fence, checkpoint, then per change
--       'U', id, account, stored configuration | 'D', id, '', '' | 'E' or 'X', kind, '', ''
-- (E enables a kind, X disables it). Each account's set of ids is <base>a:<account>.
local cpKey, fenceKey, configs, owners, disabled = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local base = ARGV[1]
local refused = fenced(fenceKey, ARGV[2])
if refused then return redis.error_reply(refused) end

-- unown removes id from the set of the account that holds it, if it is not account.
local function unown(id, account)
  local old = redis.call('HGET', owners, id)
  if old and old ~= account then
    redis.call('SREM', base .. 'a:' .. old, id)
  end
  return old
end

for i = 4, #ARGV, 4 do
  local op, id = ARGV[i], ARGV[i + 1]
  if op == 'U' then
    local account = ARGV[i + 2]
    if unown(id, account) ~= account then
      redis.call('HSET', owners, id, account)
      redis.call('SADD', base .. 'a:' .. account, id)
    end
    redis.call('HSET', configs, id, ARGV[i + 3])
  elseif op == 'D' then
    if unown(id, nil) then redis.call('HDEL', owners, id) end
    redis.call('HDEL', configs, id)
  elseif op == 'E' then
    redis.call('SREM', disabled, id)
  elseif op == 'X' then
    redis.call('SADD', disabled, id)
  end
end
raiseCheckpoint(cpKey, ARGV[3])
return 1
