-- Shared by every writing script of every view (prepended to each): fencing and checkpoints.

-- decimalLess compares two decimal integers without leading zeros (checkpoints), exactly
-- even beyond 2^53, where Lua's numbers lose digits.
local function decimalLess(a, b)
  if #a ~= #b then return #a < #b end
  for i = 1, #a, 10 do
    local x, y = tonumber(string.sub(a, i, i + 9)), tonumber(string.sub(b, i, i + 9))
    if x ~= y then return x < y end
  end
  return false
end

-- fenced refuses a write whose fence is older than the one stored, and stores a newer one,
-- so that once a new lease holder has written, a paused former holder cannot. A lease holder
-- claimed the fence before its first write, so a fence that is gone means Redis lost the
-- view's data (a FLUSHALL, a restart without persistence): writing on would store a
-- checkpoint over data that is no longer there, and the view would never be rebuilt.
local function fenced(fenceKey, fence)
  local stored = redis.call('GET', fenceKey)
  if not stored and tonumber(fence) > 0 then
    return 'HERALD_FENCED write with fence ' .. fence .. ' refused: the view\'s fence is gone from Redis, ' ..
      'which has lost its data (a FLUSHALL, or a restart without persistence); the view is rebuilt from the log under a new lease'
  end
  stored = stored or '0'
  if tonumber(stored) > tonumber(fence) then
    return 'HERALD_FENCED write with fence ' .. fence .. ' refused: the view is held with fence ' .. stored
  end
  if tonumber(stored) < tonumber(fence) then
    redis.call('SET', fenceKey, fence)
  end
  return nil
end

-- raiseCheckpoint stores checkpoint unless the stored one is newer: a checkpoint never moves
-- back.
local function raiseCheckpoint(cpKey, checkpoint)
  local old = redis.call('GET', cpKey)
  if not old or decimalLess(old, checkpoint) then
    redis.call('SET', cpKey, checkpoint)
  end
end
