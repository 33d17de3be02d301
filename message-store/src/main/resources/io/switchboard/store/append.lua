-- Appends one publication to a channel atomically: idempotency check, rate limit, offset increment, XADD, size and
-- TTL trim, expiry refresh — one round trip, so racing publishers never share an offset or leave a gap. Every
-- check happens before the first write, and no write can fail after it, so an append is never half-written.
-- Kept to 4 Redis calls in the common case (GET meta, XADD, SET meta, PEXPIRE): a call costs a few microseconds.
--
-- KEYS[1] meta string "<epoch>:<last offset>:<trimAt>:<lastAck>"; trimAt = no entry expires before it (ms),
--         lastAck = highest offset requiring an ack in this epoch (0 = none)
-- KEYS[2] history stream, entry id "<offset>-0", fields k = keep-until ms, x = own expiry ms (0 none),
--         p = publication JSON without offset/epoch
-- KEYS[3] zset of ids requiring an ack (score = offset)   KEYS[4] rate counter   KEYS[5] idempotency key (optional)
-- ARGV[1] now ms  [2] historySize  [3] historyTtl ms  [4] fresh epoch  [5] publication id  [6] own expiry ms
--      [7] requiresAck 1/0  [8] publication JSON  [9] publications/s (0 = unlimited)  [10] idempotency window ms
-- Returns {0, "id|offset|epoch|ts"} stored, {1, "id|offset|epoch|ts"} duplicate (the first result),
--         {2, retryAfterMs} rate limited.
local meta, hist, ackable, rate, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now, size, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local keep = now + ttl

if idem then
  local first = redis.call('GET', idem)
  if first then return {1, first} end
end

local limit = tonumber(ARGV[9])
if limit > 0 then
  local used = tonumber(redis.call('GET', rate) or '0')
  if used >= limit then
    local wait = redis.call('PTTL', rate)
    if wait < 0 then wait = 1000 end
    return {2, wait}
  end
end

local epoch, offset, trimAt, lastAck
local state = redis.call('GET', meta)
if state then
  epoch, offset, trimAt, lastAck = string.match(state, '^(%x+):(%d+):(%d+):(%d+)$')
  offset, trimAt, lastAck = tonumber(offset), tonumber(trimAt), tonumber(lastAck)
end

-- NOMKSTREAM: a missing stream means no history yet, or history lost although offsets were handed out
local added = false
if epoch and offset > 0 then
  added = redis.call('XADD', hist, 'NOMKSTREAM', 'MAXLEN', size, (offset + 1) .. '-0', 'k', keep, 'x', ARGV[6], 'p', ARGV[8])
end
if not added then
  if not epoch or offset > 0 then epoch = ARGV[4] end -- lost (or never had) a history: a new epoch
  offset, trimAt, lastAck = 0, 0, 0
  redis.call('DEL', hist, ackable)
  redis.call('XADD', hist, 'MAXLEN', size, '1-0', 'k', keep, 'x', ARGV[6], 'p', ARGV[8])
end
offset = offset + 1

if ARGV[7] == '1' then
  redis.call('ZADD', ackable, offset, ARGV[5])
  redis.call('PEXPIRE', ackable, ttl)
  lastAck = offset
end

-- Drop head entries past their history TTL, only once the oldest may have expired. Stops at the entry just added
-- at the latest (its keep-until is after now). trimAt stays a lower bound when MAXLEN drops the head.
local first = math.max(1, offset - size + 1)
if trimAt <= now then
  while true do
    local head = redis.call('XRANGE', hist, '-', '+', 'COUNT', 1)[1]
    local k = tonumber(head[2][2])
    if k > now then
      first, trimAt = tonumber(string.match(head[1], '^%d+')), k
      break
    end
    redis.call('XDEL', hist, head[1])
  end
end
if lastAck > 0 then
  if lastAck < first then
    redis.call('DEL', ackable)
    lastAck = 0
  else
    redis.call('ZREMRANGEBYSCORE', ackable, '-inf', '(' .. first)
  end
end

redis.call('SET', meta, string.format('%s:%d:%.0f:%d', epoch, offset, trimAt, lastAck), 'PX', ttl)
redis.call('PEXPIRE', hist, ttl)
if limit > 0 and redis.call('INCR', rate) == 1 then redis.call('PEXPIRE', rate, 1000) end

local result = ARGV[5] .. '|' .. offset .. '|' .. epoch .. '|' .. ARGV[1]
if idem then redis.call('SET', idem, result, 'PX', ARGV[10]) end
return {0, result}
