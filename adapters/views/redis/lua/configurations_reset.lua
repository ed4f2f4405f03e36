-- Drops every configuration, the endpoint status and the checkpoint, unless a newer fence
-- holds the view. KEYS: fence, checkpoint, configurations, owners, disabled. ARGV: fence, base.
local refused = fenced(KEYS[1], ARGV[1])
if refused then return redis.error_reply(refused) end
local seen = {}
for _, account in ipairs(redis.call('HVALS', KEYS[4])) do
  if not seen[account] then
    seen[account] = true
    redis.call('UNLINK', ARGV[2] .. 'a:' .. account)
  end
end
redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
