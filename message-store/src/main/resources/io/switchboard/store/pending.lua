-- Lists the entries that require an ack and that one subject has not acked, in offset order. Expiry is checked by
-- the caller, which needs the publication anyway.
--
-- KEYS[1] meta (see append.lua)  KEYS[2] history stream  KEYS[3] zset of ids requiring an ack (score: offset)
-- KEYS[4] ack set of the subject
-- ARGV[1] only entries with an offset above this  [2] byte bound (0 = none): entries stop once their publications'
-- JSON reaches it (the caller applies the exact bound)
-- Returns {epoch or '', {{id, k, x, p}...}, truncated}: truncated = 1 when the bound stopped the list before
-- another pending entry.
local meta, hist, ackable, acks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local state = redis.call('GET', meta)
if not state then return {'', {}, 0} end
local epoch = string.match(state, '^(%x+):')
local maxBytes = tonumber(ARGV[2] or '0')
local entries = {}
local bytes = 0
local truncated = 0
local ids = redis.call('ZRANGEBYSCORE', ackable, '(' .. (ARGV[1] or '0'), '+inf', 'WITHSCORES')
for i = 1, #ids, 2 do
  if redis.call('SISMEMBER', acks, ids[i]) == 0 then
    local e = redis.call('XRANGE', hist, ids[i + 1] .. '-0', ids[i + 1] .. '-0')[1]
    if e then
      if maxBytes > 0 and bytes >= maxBytes then
        truncated = 1
        break
      end
      entries[#entries + 1] = {e[1], e[2][2], e[2][4], e[2][6]}
      bytes = bytes + #e[2][6]
    end
  end
end
return {epoch, entries, truncated}
