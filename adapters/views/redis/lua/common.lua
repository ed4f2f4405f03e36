-- Shared by every script of the event-log view (prepended to each, after fence.lua). See
-- layout.go for the keys and encoding.go for the entry and sort-key formats.

-- The stored form of an entry: sort key, level, id, type, account, resource id, resource
-- type, service, host. Keep in step with entryFormat in encoding.go.
local ENTRY = '>c20BHc0Hc0Hc0Hc0Hc0Hc0Hc0'

-- Sort keys and positions are compared as 32-bit words, never with Lua's < on strings:
-- that follows the server's locale (strcoll), not the byte order Redis sorts members in.
local WORDS = '>I4I4I4I4I4'

local function posLess(a, b) -- 8-byte big-endian positions
  local a1, a2 = struct.unpack('>I4I4', a)
  local b1, b2 = struct.unpack('>I4I4', b)
  if a1 ~= b1 then return a1 < b1 end
  return a2 < b2
end

-- The scripts of one Apply form a chain: each refuses to run unless its predecessor ran to
-- its end, so that when a pipelined script fails halfway, the ones after it (the last sets
-- the checkpoint) cannot move the checkpoint past the hole.
local function chainBroken(chainKey, token, step)
  if step ~= '0' and redis.call('GET', chainKey) ~= token .. ':' .. step then
    return 'HERALD_CHAIN an earlier script of this batch did not complete'
  end
  return nil
end

local function chainNext(chainKey, token, step)
  redis.call('SET', chainKey, token .. ':' .. (tonumber(step) + 1))
end

-- indexKeys lists the indexes an entry belongs to. Empty values are not indexed: a filter
-- never asks for them ("" means any).
local function indexKeys(base, level, typ, account, resid, restype, service, host)
  local ks = { base .. 'i:all', base .. 'i:l:' .. level }
  if typ ~= '' then ks[#ks + 1] = base .. 'i:t:' .. typ end
  if account ~= '' then ks[#ks + 1] = base .. 'i:a:' .. account end
  if resid ~= '' then ks[#ks + 1] = base .. 'i:r:' .. resid end
  if restype ~= '' then ks[#ks + 1] = base .. 'i:rt:' .. restype end
  if service ~= '' then ks[#ks + 1] = base .. 'i:s:' .. service end
  if host ~= '' then ks[#ks + 1] = base .. 'i:h:' .. host end
  return ks
end

local function removeBlob(base, entries, ids, pos, blob)
  local key, level, id, typ, account, resid, restype, service, host = struct.unpack(ENTRY, blob)
  for _, k in ipairs(indexKeys(base, level, typ, account, resid, restype, service, host)) do
    redis.call('ZREM', k, key)
  end
  redis.call('HDEL', entries, pos)
  redis.call('HDEL', ids, id)
end

-- removeID removes an entry by id; an unknown id is a no-op.
local function removeID(base, entries, ids, id)
  local pos = redis.call('HGET', ids, id)
  if not pos then return end
  local blob = redis.call('HGET', entries, pos)
  if blob then
    removeBlob(base, entries, ids, pos, blob)
  else
    redis.call('HDEL', ids, id)
  end
end

-- readFilter reads a filter from ARGV[i] on: the lex range of the window (and cursor), then
-- account, level, service, host, type, whether type is a prefix, resource type, resource id.
local function readFilter(i)
  return {
    min = ARGV[i], max = ARGV[i + 1], account = ARGV[i + 2], levelArg = ARGV[i + 3],
    level = tonumber(ARGV[i + 3]), service = ARGV[i + 4], host = ARGV[i + 5],
    type = ARGV[i + 6], prefix = ARGV[i + 7] == '1', restype = ARGV[i + 8], resid = ARGV[i + 9],
  }
end

local function matches(f, blob)
  local _, level, _, typ, account, resid, restype, service, host = struct.unpack(ENTRY, blob)
  if f.level and level ~= f.level then return false end
  if f.account ~= '' and account ~= f.account then return false end
  if f.service ~= '' and service ~= f.service then return false end
  if f.host ~= '' and host ~= f.host then return false end
  if f.restype ~= '' and restype ~= f.restype then return false end
  if f.resid ~= '' and resid ~= f.resid then return false end
  if f.type ~= '' then
    if f.prefix then
      if string.sub(typ, 1, #f.type) ~= f.type then return false end
    elseif typ ~= f.type then
      return false
    end
  end
  return true
end

-- plan lists, for each field the filter sets, the indexes that together hold exactly the
-- entries with that value: one index per field, or, for a type prefix, the index of every
-- type seen under it. nil means nothing can match.
local function plan(base, types, f)
  local groups = {}
  local function one(kind, v)
    if v ~= '' then groups[#groups + 1] = { base .. 'i:' .. kind .. ':' .. v } end
  end
  one('a', f.account)
  one('l', f.levelArg)
  one('s', f.service)
  one('h', f.host)
  one('rt', f.restype)
  one('r', f.resid)
  if f.type ~= '' then
    if f.prefix then
      local ks = {}
      for _, t in ipairs(redis.call('SMEMBERS', types)) do
        if string.sub(t, 1, #f.type) == f.type then ks[#ks + 1] = base .. 'i:t:' .. t end
      end
      if #ks == 0 then return nil end
      groups[#groups + 1] = ks
    else
      one('t', f.type)
    end
  end
  if #groups == 0 then groups[1] = { base .. 'i:all' } end
  return groups
end

-- within counts a group's members in the window and drops its indexes that have none there.
local function within(keys, min, max)
  local live, n = {}, 0
  for _, k in ipairs(keys) do
    local c = redis.call('ZLEXCOUNT', k, min, max)
    if c > 0 then
      live[#live + 1] = k
      n = n + c
    end
  end
  return live, n
end

-- choose picks the group with the fewest members in the window: the cheapest to walk. The
-- other groups are checked per member: a single index by probing it (ZSCORE, far cheaper
-- than reading and decoding the entry), a union (a type prefix) on the entry itself
-- (checkEntry). It returns the indexes to walk, their count in the window (nil when there
-- is nothing to compare), the probes (most selective first) and checkEntry.
local function choose(groups, min, max)
  if #groups == 1 and #groups[1] == 1 then return groups[1], nil, {}, false end
  local lives, counts, best = {}, {}, nil
  for i, g in ipairs(groups) do
    lives[i], counts[i] = within(g, min, max)
    if counts[i] == 0 then return lives[i], 0, {}, false end
    if best == nil or counts[i] < counts[best] then best = i end
  end
  local others, checkEntry = {}, false
  for i, g in ipairs(groups) do
    if i ~= best then
      if #g == 1 then others[#others + 1] = i else checkEntry = true end
    end
  end
  table.sort(others, function(a, b) return counts[a] < counts[b] end)
  local probes = {}
  for j, i in ipairs(others) do probes[j] = groups[i][1] end
  return lives[best], counts[best], probes, checkEntry
end

-- inAll tells whether member m is in every index of probes.
local function inAll(probes, m)
  for _, k in ipairs(probes) do
    if not redis.call('ZSCORE', k, m) then return false end
  end
  return true
end

-- walk visits the members of the union of keys within [min, max] newest first (a k-way
-- merge), fetching each index in growing chunks. visit(member) returns stop and an extra
-- cost. After budget units of work walk yields: it returns false and the last member
-- visited, from which the caller resumes in its next call, so that no script blocks Redis
-- for long. It returns true when the walk is over (stopped or exhausted).
local function walk(keys, min, max, first, budget, visit)
  local n = #keys
  local buf, at, upper, more, size = {}, {}, {}, {}, {}
  local w1, w2, w3, w4, w5 = {}, {}, {}, {}, {}
  local function refill(j)
    local r = redis.call('ZRANGE', keys[j], upper[j], min, 'BYLEX', 'REV', 'LIMIT', 0, size[j])
    more[j] = #r == size[j]
    if #r > 0 then upper[j] = '(' .. r[#r] end
    buf[j], at[j] = r, 1
    size[j] = math.min(size[j] * 4, 4096)
  end
  -- head makes sure source j's next member is buffered (and its words known, for the merge);
  -- false when the source is exhausted.
  local function head(j)
    local m = buf[j][at[j]]
    if m == nil and more[j] then
      refill(j)
      m = buf[j][at[j]]
    end
    if m == nil then return false end
    if n > 1 then w1[j], w2[j], w3[j], w4[j], w5[j] = struct.unpack(WORDS, m) end
    return true
  end
  local function newer(a, b)
    if w1[a] ~= w1[b] then return w1[a] > w1[b] end
    if w2[a] ~= w2[b] then return w2[a] > w2[b] end
    if w3[a] ~= w3[b] then return w3[a] > w3[b] end
    if w4[a] ~= w4[b] then return w4[a] > w4[b] end
    return w5[a] > w5[b]
  end
  local live = {}
  for j = 1, n do
    upper[j], more[j], size[j] = max, true, first
    refill(j)
    live[j] = head(j)
  end
  local spent, last = 0, nil
  while true do
    local b = nil
    for j = 1, n do
      if live[j] and (b == nil or newer(j, b)) then b = j end
    end
    if b == nil then return true, nil end
    if spent >= budget then return false, last end
    local m = buf[b][at[b]]
    at[b] = at[b] + 1
    live[b] = head(b)
    last = m
    local stop, cost = visit(m)
    if stop then return true, nil end
    spent = spent + 1 + (cost or 0)
  end
end
