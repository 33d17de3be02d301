-- Appends a batch of publications, to one channel or many, in one script call (RedisAppends batches the appends
-- that arrive while earlier calls are in flight). Per publication, atomically: idempotency check, rate limit, offset
-- increment, XADD, size and TTL trim, expiry refresh — so racing publishers never share an offset or leave a gap.
-- The states (meta) of all channels of a call are read with ONE MGET, and each channel's state is written once at the
-- end (SET meta, PEXPIRE history, INCRBY rate), so a batch of n publications on c channels costs ~n+3c+1 Redis calls
-- (4n before batching). The meta's format is shared with read.lua and with older store versions that may run against
-- the same Redis during an upgrade: keep it "<epoch>:<offset>:<trimAt>:<lastAck>" (an older parser that does not
-- match it would start a new epoch and drop the history).
--
-- Never half-written: for each publication every check happens before its first write, and its first write (XADD)
-- is the only one that can fail (WRONGTYPE, or OOM while the script has not written yet). Each publication runs
-- under pcall, so one that fails is answered with its own error while the others of the batch are stored; the
-- end-of-call writes (SET, PEXPIRE, INCRBY, ZREMRANGEBYSCORE, DEL) cannot fail once a write succeeded.
--
-- Keys per channel group: meta, history, ackable, rate, then the idempotency key of each publication that has one
--   meta string "<epoch>:<last offset>:<trimAt>:<lastAck>"; trimAt = no entry expires before it (ms),
--        lastAck = highest offset requiring an ack in this epoch (0 = none)
--   history stream, entry id "<offset>-0", fields k = keep-until ms, x = own expiry ms (0 none),
--        p = publication JSON without offset/epoch
--   ackable zset of ids requiring an ack (score = offset); rate counter of the current one-second window
-- ARGV[1] now ms  [2] idempotency window ms  [3] fresh epoch (used by any channel without history)
--   then per group: count n, historySize, historyTtl ms, publications/s (0 = unlimited)
--   then per publication of the group: flags (1 = requires ack, 2 = has idempotency key, summed), id, timestamp,
--        own expiry ms (0 none), publication JSON
-- A channel may appear in several groups (its options changed within the batch); its state carries over.
-- Returns a flat array, 3 values per publication in argument order:
--   0, offset, epoch         stored
--   1, "id|offset|epoch|ts", ""   duplicate (the first result of its idempotency key)
--   2, retryAfterMs, ""      rate limited (nothing stored)
--   3, error message, ""     failed (nothing stored for it)
local now, window, fresh = tonumber(ARGV[1]), ARGV[2], ARGV[3]

local function errorText(e)
  if type(e) == 'table' then return e.err or 'error' end
  return tostring(e)
end

-- The state of a channel, from its meta value (false: none), read once per call.
local function load(state, meta, hist, ackable, rate)
  local epoch, offset, trimAt, lastAck
  if state then
    epoch, offset, trimAt, lastAck = string.match(state, '^(%x+):(%d+):(%d+):(%d+)$')
    offset, trimAt, lastAck = tonumber(offset), tonumber(trimAt), tonumber(lastAck)
  end
  -- every field named here, so the table is sized once (no rehash as fields are added)
  return {meta = meta, hist = hist, ackable = ackable, rate = rate, counted = 0, dirty = false, acks = false,
          first = 1, epoch = epoch or false, offset = offset or 0, trimAt = trimAt or 0, lastAck = lastAck or 0,
          size = 0, sizeText = '', ttl = 0, limit = 0, keep = '', used = false}
end

-- The meta values of every channel of the call, with one MGET (in chunks, to stay within Lua's stack). MGET answers
-- nil for a key of another type, so a channel whose value is nil is read again with GET, which raises WRONGTYPE
-- for that channel alone (a missing meta, the rare case, costs that one GET).
local function readStates()
  local metas, seen, states = {}, {}, {}
  local a, k = 4, 1
  while a <= #ARGV do
    local n = tonumber(ARGV[a])
    a = a + 4
    local meta = KEYS[k]
    if not seen[meta] then
      seen[meta] = true
      metas[#metas + 1] = meta
    end
    k = k + 4
    for _ = 1, n do
      if tonumber(ARGV[a]) >= 2 then k = k + 1 end
      a = a + 5
    end
  end
  for i = 1, #metas, 500 do
    local values = redis.call('MGET', unpack(metas, i, math.min(i + 499, #metas)))
    for j = 1, #values do states[metas[i + j - 1]] = values[j] end
  end
  return states
end

local function appendOne(c, flags, id, ts, expiry, json, idem)
  if idem then
    local first = redis.call('GET', idem)
    if first then return 1, first, '' end
  end
  if c.limit > 0 then
    if not c.used then c.used = tonumber(redis.call('GET', c.rate) or '0') end
    if c.used >= c.limit then
      local wait = redis.call('PTTL', c.rate)
      if wait < 0 then wait = 1000 end
      return 2, wait, ''
    end
  end
  -- NOMKSTREAM: a missing stream means no history yet, or history lost although offsets were handed out
  local added = false
  if c.epoch and c.offset > 0 then
    added = redis.call('XADD', c.hist, 'NOMKSTREAM', 'MAXLEN', c.sizeText, (c.offset + 1) .. '-0',
      'k', c.keep, 'x', expiry, 'p', json)
  end
  if not added then
    local epoch = c.epoch
    if not epoch or c.offset > 0 then epoch = fresh end -- lost (or never had) a history: a new epoch
    redis.call('DEL', c.hist, c.ackable)
    redis.call('XADD', c.hist, 'MAXLEN', c.sizeText, '1-0', 'k', c.keep, 'x', expiry, 'p', json)
    c.epoch, c.offset, c.trimAt, c.lastAck, c.first = epoch, 0, 0, 0, 1
  end
  c.offset = c.offset + 1
  c.dirty = true

  if flags % 2 == 1 then
    redis.call('ZADD', c.ackable, c.offset, id)
    c.acks = true
    c.lastAck = c.offset
  end

  -- Drop head entries past their history TTL, only once the oldest may have expired. Stops at the entry just added
  -- at the latest (its keep-until is after now). trimAt stays a lower bound when MAXLEN drops the head.
  c.first = math.max(c.first, c.offset - c.size + 1)
  if c.trimAt <= now then
    while true do
      local head = redis.call('XRANGE', c.hist, '-', '+', 'COUNT', 1)[1]
      local k = tonumber(head[2][2])
      if k > now then
        c.first, c.trimAt = tonumber(string.match(head[1], '^%d+')), k
        break
      end
      redis.call('XDEL', c.hist, head[1])
    end
  end

  if c.limit > 0 then
    c.used = c.used + 1
    c.counted = c.counted + 1
  end
  if idem then redis.call('SET', idem, id .. '|' .. c.offset .. '|' .. c.epoch .. '|' .. ts, 'PX', window) end
  return 0, c.offset, c.epoch
end

local states = readStates()
local channels, order, out = {}, {}, {}
local a, k, o = 4, 1, 0 -- next ARGV, next KEYS, values in out

local function answer(status, x, y)
  out[o + 1], out[o + 2], out[o + 3] = status, x, y
  o = o + 3
end

while a <= #ARGV do
  local n, size, ttl, limit = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  a = a + 4
  local meta = KEYS[k]
  local c = channels[meta]
  local failed
  if not c then
    local state = states[meta]
    local ok, loaded = true, nil
    if not state then ok, state = pcall(redis.call, 'GET', meta) end
    if ok then ok, loaded = pcall(load, state, meta, KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]) else loaded = state end
    if ok then
      c = loaded
      channels[meta] = c
      order[#order + 1] = c
    else
      failed = errorText(loaded)
    end
  end
  k = k + 4
  -- keep-until (now + ttl) is the same for every publication of the group: formatted once, like the size
  if c then c.size, c.sizeText, c.ttl, c.limit, c.keep = tonumber(size), size, ttl, limit, string.format('%.0f', now + ttl) end
  for _ = 1, n do
    local flags = tonumber(ARGV[a])
    local idem
    if flags >= 2 then
      idem = KEYS[k]
      k = k + 1
    end
    if failed then
      answer(3, failed, '')
    else
      local ok, status, x, y = pcall(appendOne, c, flags, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], idem)
      if ok then answer(status, x, y) else answer(3, errorText(status), '') end
    end
    a = a + 5
  end
end

for _, c in ipairs(order) do
  if c.dirty then
    if c.acks then redis.call('PEXPIRE', c.ackable, c.ttl) end
    if c.lastAck > 0 then
      if c.lastAck < c.first then
        redis.call('DEL', c.ackable)
        c.lastAck = 0
      else
        redis.call('ZREMRANGEBYSCORE', c.ackable, '-inf', '(' .. c.first)
      end
    end
    redis.call('SET', c.meta, string.format('%s:%d:%.0f:%d', c.epoch, c.offset, c.trimAt, c.lastAck), 'PX', c.ttl)
    redis.call('PEXPIRE', c.hist, c.ttl)
    if c.counted > 0 and redis.call('INCRBY', c.rate, c.counted) == c.counted then
      redis.call('PEXPIRE', c.rate, 1000)
    end
  end
end
return out
