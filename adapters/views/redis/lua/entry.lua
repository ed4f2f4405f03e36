-- Returns the stored entry of an id, or nil. KEYS: ids, entries. ARGV: id.
local pos = redis.call('HGET', KEYS[1], ARGV[1])
if not pos then return false end
return redis.call('HGET', KEYS[2], pos)
