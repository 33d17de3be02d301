-- Lists the entries that require an ack and that one subject has not acked, in offset order. Expiry is checked by
-- the caller, which needs the publication anyway.
--
-- KEYS[1] meta (see append.lua)  KEYS[2] history stream  KEYS[3] zset of ids requiring an ack  KEYS[4] ack set of the subject
-- Returns {epoch or '', {{id, k, x, p}...}}.
local meta, hist, ackable, acks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local state = redis.call('GET', meta)
if not state then return {'', {}} end
local epoch = string.match(state, '^(%x+):')
local entries = {}
local ids = redis.call('ZRANGE', ackable, 0, -1, 'WITHSCORES')
for i = 1, #ids, 2 do
  if redis.call('SISMEMBER', acks, ids[i]) == 0 then
    local e = redis.call('XRANGE', hist, ids[i + 1] .. '-0', ids[i + 1] .. '-0')[1]
    if e then entries[#entries + 1] = {e[1], e[2][2], e[2][4], e[2][6]} end
  end
end
return {epoch, entries}
