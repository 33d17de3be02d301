package io.switchboard.presence;

/**
 * The Lua scripts of {@link RedisPresenceStore}. Each touches keys of ONE hash tag only: either the client side
 * ({@code {clients}}: the deadline sorted set and the per-client channel hashes) or one channel ({@code {channel}}),
 * so every script is atomic and also runs on Redis Cluster.
 *
 * <p>Client hash {@code sb:presence:{clients}:client:<id>}: one field per channel the client is in, plus {@code $t},
 * the time its channel keys' TTLs are next due to be extended ({@code $} never occurs in a channel name).
 * Channel hash {@code sb:presence:{<channel>}:members}: {@code m:<client>} → member JSON (subject, info, joinedAt,
 * node) and {@code s:<client>} → state JSON. JSON is stored as text and never decoded in Lua, so numbers and empty
 * arrays come back exactly as written.
 */
final class PresenceScripts {
  private PresenceScripts() {}

  /** KEYS deadlines, client; ARGV client, deadline, nextTouch, ttlMs, channels…. */
  static final LuaScript CLIENT_JOIN = new LuaScript("""
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      for i = 5, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], '1') end
      -- never postpone a touch already due: older channels' TTLs count on it
      redis.call('HSETNX', KEYS[2], '$t', ARGV[3])
      redis.call('PEXPIRE', KEYS[2], ARGV[4])
      return 1
      """);

  /** KEYS deadlines, client; ARGV client, channels…: forgets the channels, and the client once it has none left. */
  static final LuaScript CLIENT_LEAVE = new LuaScript("""
      for i = 2, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
      local n = redis.call('HLEN', KEYS[2])
      if n == 0 or (n == 1 and redis.call('HEXISTS', KEYS[2], '$t') == 1) then
        redis.call('DEL', KEYS[2])
        redis.call('ZREM', KEYS[1], ARGV[1])
      end
      return 1
      """);

  /**
   * KEYS deadlines; ARGV deadline, now, nextTouch, ttlMs, clientKeyPrefix, clients…. Moves the deadline of clients
   * still present (never re-adds one) and returns the channels whose keys are due for a TTL extension.
   */
  static final LuaScript REFRESH = new LuaScript("""
      local now = tonumber(ARGV[2])
      local due = {}
      for i = 6, #ARGV do
        local client = ARGV[i]
        if redis.call('ZSCORE', KEYS[1], client) then
          redis.call('ZADD', KEYS[1], ARGV[1], client)
          local key = ARGV[5] .. client
          if tonumber(redis.call('HGET', key, '$t') or '0') <= now then
            redis.call('HSET', key, '$t', ARGV[3])
            redis.call('PEXPIRE', key, ARGV[4])
            for _, channel in ipairs(redis.call('HKEYS', key)) do
              if channel ~= '$t' then due[channel] = true end
            end
          end
        end
      end
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      local out = {}
      for channel in pairs(due) do out[#out + 1] = channel end
      return out
      """);

  /**
   * KEYS deadlines; ARGV now, limit, clientKeyPrefix. Claims expired clients: removes them from the deadlines and
   * returns {client, channels[]} pairs. Atomic, so of concurrent sweepers exactly one claims each client.
   */
  static final LuaScript CLAIM = new LuaScript("""
      local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
      local out = {}
      for _, client in ipairs(expired) do
        redis.call('ZREM', KEYS[1], client)
        local key = ARGV[3] .. client
        out[#out + 1] = client
        out[#out + 1] = redis.call('HKEYS', key)
        redis.call('DEL', key)
      end
      return out
      """);

  /** KEYS deadlines; ARGV clients… → 1 for each client still present, else 0. */
  static final LuaScript ALIVE = new LuaScript("""
      local out = {}
      for i = 1, #ARGV do out[i] = redis.call('ZSCORE', KEYS[1], ARGV[i]) and 1 or 0 end
      return out
      """);

  /**
   * KEYS channel; ARGV client, memberJson, ttlMs, subject → {0, users} when the client was a member already (a re-join
   * keeps the first), else {the number of the subject's clients in the channel now, the distinct subjects in it}
   * ({@code u:<subject>} counts a subject's clients, {@code $u} the subjects with at least one).
   */
  static final LuaScript MEMBER_JOIN = new LuaScript("""
      local added = redis.call('HSETNX', KEYS[1], 'm:' .. ARGV[1], ARGV[2])
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      if added == 0 then return {0, 0} end
      local n = redis.call('HINCRBY', KEYS[1], 'u:' .. ARGV[4], 1)
      local users
      if n == 1 then users = redis.call('HINCRBY', KEYS[1], '$u', 1)
      else users = tonumber(redis.call('HGET', KEYS[1], '$u') or '0') end
      return {n, users}
      """);

  /**
   * KEYS channel; ARGV client → {memberJson, stateJson or '', the subject's clients left, the distinct subjects
   * left}, or nil when it was not a member. The subject is read from the member JSON (cjson) only to count.
   */
  static final LuaScript MEMBER_REMOVE = new LuaScript("""
      local member = redis.call('HGET', KEYS[1], 'm:' .. ARGV[1])
      if not member then return false end
      local state = redis.call('HGET', KEYS[1], 's:' .. ARGV[1]) or ''
      redis.call('HDEL', KEYS[1], 'm:' .. ARGV[1], 's:' .. ARGV[1])
      local field = 'u:' .. tostring(cjson.decode(member)['subject'])
      local left = redis.call('HINCRBY', KEYS[1], field, -1)
      local users
      if left <= 0 then
        redis.call('HDEL', KEYS[1], field); left = 0
        users = redis.call('HINCRBY', KEYS[1], '$u', -1)
        if users <= 0 then redis.call('HDEL', KEYS[1], '$u'); users = 0 end
      else
        users = tonumber(redis.call('HGET', KEYS[1], '$u') or '0')
      end
      return {member, state, left, users}
      """);

  /** KEYS channel; ARGV client, stateJson, ttlMs → memberJson, or nil when it is not a member. */
  static final LuaScript MEMBER_SET_STATE = new LuaScript("""
      local member = redis.call('HGET', KEYS[1], 'm:' .. ARGV[1])
      if not member then return false end
      redis.call('HSET', KEYS[1], 's:' .. ARGV[1], ARGV[2])
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      return member
      """);

  /** KEYS channel → flat field/value list (the same shape under RESP2 and RESP3). */
  static final LuaScript MEMBERS = new LuaScript("""
      return redis.call('HGETALL', KEYS[1])
      """);
}
