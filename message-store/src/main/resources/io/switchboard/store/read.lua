-- Reads a channel's position and, optionally, a range of its history. Creates the channel's state when it has
-- none (so the epoch reported is the one the next append will use) and starts a new epoch when the history key
-- was lost — the same rule as append.lua.
--
-- KEYS[1] meta (see append.lua)  KEYS[2] history stream  KEYS[3] zset of ids requiring an ack  KEYS[4] ack set of a subject (optional)
-- ARGV[1] historyTtl ms  [2] fresh epoch  [3] expected epoch ('' = any; on mismatch no entries are read)
--      [4] [5] range ids in the order the command takes them (XREVRANGE: high id first)
--      [6] count (0 = none, -1 = all)  [7] 1 = XREVRANGE (newest first), 0 = XRANGE
-- Returns {epoch, offset, {{id, k, x, p}...}, {acked ids of the subject...}}.
local meta, hist, ackable, acks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local epoch, offset
local state = redis.call('GET', meta)
if state then
  epoch, offset = string.match(state, '^(%x+):(%d+):')
  offset = tonumber(offset)
end
if not epoch or (offset > 0 and redis.call('EXISTS', hist) == 0) then
  epoch, offset = ARGV[2], 0
  redis.call('DEL', hist, ackable)
  redis.call('SET', meta, epoch .. ':0:0:0', 'PX', ARGV[1])
end

local entries = {}
local count = tonumber(ARGV[6])
if count ~= 0 and offset > 0 and (ARGV[3] == '' or ARGV[3] == epoch) then
  local range
  local cmd = ARGV[7] == '1' and 'XREVRANGE' or 'XRANGE'
  if count > 0 then
    range = redis.call(cmd, hist, ARGV[4], ARGV[5], 'COUNT', count)
  else
    range = redis.call(cmd, hist, ARGV[4], ARGV[5])
  end
  for i, e in ipairs(range) do
    entries[i] = {e[1], e[2][2], e[2][4], e[2][6]}
  end
end

local acked = {}
if acks then acked = redis.call('SMEMBERS', acks) end
return {epoch, offset, entries, acked}
