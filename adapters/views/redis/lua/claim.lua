-- Stores a fence as the view's, unless a newer one holds it. KEYS: fence. ARGV: fence.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
local refused = fenced(KEYS[1], ARGV[1])
if refused then return redis.error_reply(refused) end
return 1
