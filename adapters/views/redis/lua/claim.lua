-- Stores a fence as the view's, unless a newer one holds it. KEYS: fence. ARGV: fence.
local refused = fenced(KEYS[1], ARGV[1])
if refused then return redis.error_reply(refused) end
return 1
