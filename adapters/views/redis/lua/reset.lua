-- Unlinks keys of the view (a batch of a Reset), unless a newer fence holds the view.
-- KEYS: fence, then the keys to unlink. ARGV: fence.
local refused = fenced(KEYS[1], ARGV[1])
if refused then return redis.error_reply(refused) end
for i = 2, #KEYS do redis.call('UNLINK', KEYS[i]) end
return #KEYS - 1
