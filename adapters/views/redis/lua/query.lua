-- Answers a page or a count from the indexes. Read-only.
-- KEYS: entries, types
-- ARGV: base, mode ('page' | 'count'), need (entries a page still needs), budget, filter...
-- Returns {done, resume member, then the stored entries found (page) or their number (count)}.
local entries, types = KEYS[1], KEYS[2]
local base, mode, need, budget = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local f = readFilter(5)

local groups = plan(base, types, f)
if not groups then
  if mode == 'count' then return { 1, '', 0 } end
  return { 1, '' }
end

if mode == 'count' then
  -- One field (or none): the count of its indexes in the window is the answer.
  if #groups == 1 then
    local _, n = within(groups[1], f.min, f.max)
    return { 1, '', n }
  end
  -- Several single indexes and no window: Redis intersects them itself.
  if f.min == '-' and f.max == '+' then
    local keys = {}
    for _, g in ipairs(groups) do
      if #g ~= 1 then keys = nil break end
      keys[#keys + 1] = g[1]
    end
    if keys then return { 1, '', redis.call('ZINTERCARD', #keys, unpack(keys)) } end
  end
  local keys, fewest, probes, checkEntry = choose(groups, f.min, f.max)
  if fewest == 0 then return { 1, '', 0 } end
  local n = 0
  local done, resume = walk(keys, f.min, f.max, 1024, budget, function(m)
    if not inAll(probes, m) then return false end
    if checkEntry then
      local blob = redis.call('HGET', entries, string.sub(m, 13))
      if not blob or not matches(f, blob) then return false end
    end
    n = n + 1
    return false
  end)
  return { done and 1 or 0, resume or '', n }
end

-- A page: when the walked indexes express the whole filter, every member of them matches.
local keys, fewest, probes, checkEntry = choose(groups, f.min, f.max)
if fewest == 0 then return { 1, '' } end
local exact = #probes == 0 and not checkEntry
local out = { 0, '' }
local first = need
if not exact then first = math.min(math.max(need * 2, 64), 1024) end
local done, resume = walk(keys, f.min, f.max, first, budget, function(m)
  if not inAll(probes, m) then return false end
  local blob = redis.call('HGET', entries, string.sub(m, 13))
  if blob and (not checkEntry or matches(f, blob)) then
    out[#out + 1] = blob
    if #out - 2 >= need then return true end
  end
  return false
end)
out[1], out[2] = done and 1 or 0, resume or ''
return out
