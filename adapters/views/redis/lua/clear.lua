-- Removes the entries that match a clear's criteria and lie below its position, walking the
-- smallest matching index for a bounded amount of work; a step of an Apply's chain. Returns
-- {done, resume member, removed}: when not done, the next step resumes below the member.
-- KEYS: checkpoint, fence, chain, entries, ids, types
-- ARGV: base, fence, chain token, step, position of the clear (8 bytes), budget, filter...
local fenceKey, chainKey, entries, ids, types = KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base, token, step, at, budget = ARGV[1], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local refused = fenced(fenceKey, ARGV[2]) or chainBroken(chainKey, token, step)
if refused then return redis.error_reply(refused) end

local f = readFilter(7)
local removed, done, resume = 0, true, nil
local groups = plan(base, types, f)
if groups then
  local keys, n, probes, checkEntry = choose(groups, f.min, f.max)
  if n ~= 0 then
    done, resume = walk(keys, f.min, f.max, 256, budget, function(m)
      local pos = string.sub(m, 13)
      if not posLess(pos, at) or not inAll(probes, m) then return false end
      local blob = redis.call('HGET', entries, pos)
      if blob and (not checkEntry or matches(f, blob)) then
        removeBlob(base, entries, ids, pos, blob)
        removed = removed + 1
        return false, 8 -- a removal touches every index of the entry
      end
      return false
    end)
  end
end
chainNext(chainKey, token, step)
return { done and 1 or 0, resume or '', removed }
