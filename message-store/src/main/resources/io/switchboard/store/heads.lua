-- Reads the heads of many channels at once, creating nothing (the gateway's tail check of quiet channels).
-- KEYS: per channel its meta, then its history stream (see append.lua), in the order asked.
-- Returns one string per channel: "<epoch>:<offset>" (offset 0: read, never appended to), or "" when the channel has no
-- state, or had publications and lost its history (read.lua and append.lua start a new epoch there on their next call).
-- A key of the wrong type answers "" for its channel alone (pcall), never failing the other channels of the batch.
local out = {}
for i = 1, #KEYS, 2 do
  local state = redis.pcall('GET', KEYS[i])
  local head = ''
  if type(state) == 'string' then
    local epoch, offset = string.match(state, '^(%x+):(%d+):')
    if epoch and (tonumber(offset) == 0 or redis.pcall('EXISTS', KEYS[i + 1]) == 1) then
      head = epoch .. ':' .. offset
    end
  end
  out[#out + 1] = head
end
return out
