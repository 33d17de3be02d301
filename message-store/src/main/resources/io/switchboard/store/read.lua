-- Reads a channel's position and, optionally, a range of its history. Creates the channel's state when it has
-- none (so the epoch reported is the one the next append will use) and starts a new epoch when the history key
-- was lost — the same rule as append.lua.
--
-- KEYS[1] meta (see append.lua)  KEYS[2] history stream  KEYS[3] zset of ids requiring an ack  KEYS[4] ack set of a subject (optional)
-- ARGV[1] historyTtl ms  [2] fresh epoch  [3] expected epoch ('' = any; on mismatch no entries are read)
--      [4] [5] range ids in the order the command takes them (XREVRANGE: high id first)
--      [6] count (0 = none, -1 = all)  [7] 1 = XREVRANGE (newest first), 0 = XRANGE
--      [8] byte bound (0 = none): entries stop once their publications' JSON reaches it, so one request never
--          reads (or returns) more than about that much however large the range; the caller applies the exact bound
-- Returns {epoch, offset, {{id, k, x, p}...}, {acked ids of the subject...}, truncated}: truncated = 1 when the
-- byte bound stopped the read while the range held more entries.
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
local truncated = 0
local count = tonumber(ARGV[6])
local maxBytes = tonumber(ARGV[8] or '0')
if count ~= 0 and offset > 0 and (ARGV[3] == '' or ARGV[3] == epoch) then
  local reverse = ARGV[7] == '1'
  local cmd = reverse and 'XREVRANGE' or 'XRANGE'
  local from, to = ARGV[4], ARGV[5]
  local bytes = 0
  -- in chunks, so a byte-bounded read of a long range stops early; stream ids are '<offset>-0'
  while true do
    local chunk = 100
    if count > 0 then chunk = math.min(chunk, count - #entries) end
    if chunk <= 0 then break end
    local range = redis.call(cmd, hist, from, to, 'COUNT', chunk)
    for _, e in ipairs(range) do
      if maxBytes > 0 and bytes >= maxBytes then
        truncated = 1
        break
      end
      entries[#entries + 1] = {e[1], e[2][2], e[2][4], e[2][6]}
      bytes = bytes + #e[2][6]
    end
    if truncated == 1 or #range < chunk then break end
    local last = tonumber(string.match(range[#range][1], '^(%d+)'))
    if reverse then
      if last <= 1 then break end
      from = (last - 1) .. '-0'
    else
      from = (last + 1) .. '-0'
    end
  end
end

local acked = {}
if acks then acked = redis.call('SMEMBERS', acks) end
return {epoch, offset, entries, acked, truncated}
