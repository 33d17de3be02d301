-- Acks publications for one subject: an id is acked only if it is still in history, requires an ack and has
-- expired neither by history TTL nor by its own ttl. The subject's ack set lives as long as the latest entry it
-- refers to, so it never outlives the history it describes.
--
-- KEYS[1] history stream  KEYS[2] zset of ids requiring an ack  KEYS[3] ack set of the subject
-- ARGV[1] now ms, ARGV[2..] ids
-- Returns {id, 1 if newly acked else 0, ...} for every id acked.
local hist, ackable, acks = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local out = {}
local keep = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local offset = redis.call('ZSCORE', ackable, id)
  if offset then
    local e = redis.call('XRANGE', hist, offset .. '-0', offset .. '-0')[1]
    if e then
      local k, x = tonumber(e[2][2]), tonumber(e[2][4])
      if k > now and (x == 0 or x > now) then
        out[#out + 1] = id
        out[#out + 1] = redis.call('SADD', acks, id)
        if k > keep then keep = k end
      end
    end
  end
end
if keep > 0 then
  local left = redis.call('PTTL', acks)
  if left < keep - now then redis.call('PEXPIRE', acks, keep - now) end
end
return out
