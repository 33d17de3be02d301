-- Appends one publication to a channel atomically: idempotency check, rate limit, offset increment, XADD,
-- size and TTL trim, expiry refresh — one round trip, so racing publishers never share an offset or leave a gap.
-- Validation happens before the first write so an error can never leave a half-written append.
--
-- KEYS[1] meta hash {e = epoch, o = last offset}   KEYS[2] history stream, entry id "<offset>-0",
--         fields k = keep-until ms, x = own expiry ms (0 none), p = publication JSON (no offset/epoch)
-- KEYS[3] zset of ids requiring an ack (score = offset)   KEYS[4] rate counter   KEYS[5] idempotency key (optional)
-- ARGV[1] now ms  [2] historySize  [3] historyTtl ms  [4] fresh epoch  [5] publication id  [6] own expiry ms
--      [7] requiresAck 1/0  [8] publication JSON  [9] publications/s (0 = unlimited)  [10] idempotency window ms
-- Returns {0, "id|offset|epoch|ts"} stored, {1, "id|offset|epoch|ts"} duplicate (the first result),
--         {2, retryAfterMs} rate limited.
local meta, hist, ackable, rate, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[3])

if idem then
  local first = redis.call('GET', idem)
  if first then return {1, first} end
end

local limit = tonumber(ARGV[9])
if limit > 0 then
  local used = tonumber(redis.call('GET', rate) or '0')
  if used >= limit then
    local wait = redis.call('PTTL', rate)
    if wait < 0 then
      redis.call('PEXPIRE', rate, 1000)
      wait = 1000
    end
    return {2, wait}
  end
end

-- Channel state: a new epoch when there is none, or when the history key is gone although offsets were handed out.
local state = redis.call('HMGET', meta, 'e', 'o')
local epoch, offset = state[1], tonumber(state[2] or '0')
if not epoch or (offset > 0 and redis.call('EXISTS', hist) == 0) then
  epoch, offset = ARGV[4], 0
  redis.call('DEL', hist, ackable)
end
offset = offset + 1

redis.call('XADD', hist, 'MAXLEN', ARGV[2], offset .. '-0', 'k', now + ttl, 'x', ARGV[6], 'p', ARGV[8])
redis.call('HSET', meta, 'e', epoch, 'o', offset)
redis.call('PEXPIRE', meta, ttl)
redis.call('PEXPIRE', hist, ttl)
if ARGV[7] == '1' then redis.call('ZADD', ackable, offset, ARGV[5]) end

-- Drop head entries past their history TTL; stops at the entry just added at the latest (its keep-until > now).
local first = offset
while true do
  local head = redis.call('XRANGE', hist, '-', '+', 'COUNT', 1)[1]
  if tonumber(head[2][2]) > now then
    first = tonumber(string.match(head[1], '^%d+'))
    break
  end
  redis.call('XDEL', hist, head[1])
end
if redis.call('EXISTS', ackable) == 1 then
  redis.call('ZREMRANGEBYSCORE', ackable, '-inf', '(' .. first)
  redis.call('PEXPIRE', ackable, ttl)
end

if limit > 0 and redis.call('INCR', rate) == 1 then redis.call('PEXPIRE', rate, 1000) end

local result = ARGV[5] .. '|' .. offset .. '|' .. epoch .. '|' .. ARGV[1]
if idem then redis.call('SET', idem, result, 'PX', ARGV[10]) end
return {0, result}
