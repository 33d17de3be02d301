package io.switchboard.presence;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link OccupancyStore} in Redis, shared by every presence service of the cluster. Each script touches keys of one
 * hash tag (Redis Cluster safe):
 * <ul>
 *   <li>node side {@code {occupancy-nodes}}: {@code …:deadlines} sorted set node → deadline millis;
 *       {@code …:node:<node>} set of the channels the node occupies (a superset: entries are removed after the channel
 *       side); {@code …:swept:<node>} marks a swept node for a day so it learns it must re-announce;
 *   <li>channel side {@code sb:webhooks:{<channel>}:occupancy}: hash {@code n:<node>} → {@code <seq>:<1|0>} and
 *       {@code count}, the number of nodes with {@code :1}. Kept without expiry while occupied; once vacated it
 *       expires after {@link #TOMBSTONE_MS}, long enough for any late, outdated change to find its node's seq.
 * </ul>
 * Write order: a node's occupation is written node side first, a vacating channel side first, so the node set always
 * covers what the channels say: a sweep never misses a channel of a dead node.
 */
final class RedisOccupancyStore implements OccupancyStore {
  static final String NODES = "sb:webhooks:{occupancy-nodes}:";
  static final String DEADLINES = NODES + "deadlines";
  static final long TOMBSTONE_MS = 600_000;
  static final long SWEPT_MARK_MS = 86_400_000;
  static final int SWEEP_BATCH = 100;

  /** KEYS deadlines, nodeSet; ARGV node, deadline, channel ('' for none). */
  static final LuaScript NODE_OCCUPY = new LuaScript("""
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
      if ARGV[3] ~= '' then redis.call('SADD', KEYS[2], ARGV[3]) end
      return 1
      """);

  /** KEYS deadlines, nodeSet; ARGV node, deadline, channel. */
  static final LuaScript NODE_RELEASE = new LuaScript("""
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
      redis.call('SREM', KEYS[2], ARGV[3])
      return 1
      """);

  /** KEYS deadlines, sweptMark; ARGV node, deadline → 1 known, 0 swept since its last heartbeat. */
  static final LuaScript ALIVE = new LuaScript("""
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
      if redis.call('DEL', KEYS[2]) == 1 then return 0 end
      return 1
      """);

  /**
   * KEYS channel; ARGV node, seq, present (1|0), tombstoneMs → 1 occupied, -1 vacated, 0 neither (or outdated).
   */
  static final LuaScript CHANGE = new LuaScript("""
      local f = 'n:' .. ARGV[1]
      local cur = redis.call('HGET', KEYS[1], f)
      local was = false
      if cur then
        local s, p = string.match(cur, '^(%d+):(%d)$')
        if tonumber(s) >= tonumber(ARGV[2]) then return 0 end
        was = p == '1'
      end
      local now = ARGV[3] == '1'
      redis.call('HSET', KEYS[1], f, ARGV[2] .. ':' .. ARGV[3])
      if was == now then
        if not now and not cur then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
        return 0
      end
      local n = redis.call('HINCRBY', KEYS[1], 'count', now and 1 or -1)
      if now then
        redis.call('PERSIST', KEYS[1])
        if n == 1 then return 1 end
        return 0
      end
      if n <= 0 then
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return -1
      end
      return 0
      """);

  /** KEYS channel; ARGV node, tombstoneMs: a dead node leaves (keeping its seq) → -1 when that vacated the channel. */
  static final LuaScript REMOVE_NODE = new LuaScript("""
      local f = 'n:' .. ARGV[1]
      local cur = redis.call('HGET', KEYS[1], f)
      if not cur then return 0 end
      local s, p = string.match(cur, '^(%d+):(%d)$')
      if p ~= '1' then return 0 end
      redis.call('HSET', KEYS[1], f, s .. ':0')
      local n = redis.call('HINCRBY', KEYS[1], 'count', -1)
      if n <= 0 then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return -1
      end
      return 0
      """);

  /** KEYS deadlines; ARGV now, limit, nodePrefix, sweptMs → flat node, channels[] list of claimed nodes. */
  static final LuaScript CLAIM = new LuaScript("""
      local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
      local out = {}
      for _, node in ipairs(dead) do
        redis.call('ZREM', KEYS[1], node)
        local key = ARGV[3] .. 'node:' .. node
        out[#out + 1] = node
        out[#out + 1] = redis.call('SMEMBERS', key)
        redis.call('DEL', key)
        redis.call('SET', ARGV[3] .. 'swept:' .. node, '1', 'PX', ARGV[4])
      end
      return out
      """);

  private final RedisConnector redis;

  RedisOccupancyStore(RedisConnector redis) {
    this.redis = redis;
  }

  static String channelKey(String channel) {
    return "sb:webhooks:{" + channel + "}:occupancy";
  }

  static String nodeKey(String node) {
    return NODES + "node:" + node;
  }

  @Override
  public Future<Integer> change(String node, long seq, String channel, boolean occupied, long nodeDeadline) {
    List<String> nodeKeys = List.of(DEADLINES, nodeKey(node));
    List<String> nodeArgs = List.of(node, Long.toString(nodeDeadline), channel);
    Future<Integer> applied;
    if (occupied) {
      applied = NODE_OCCUPY.run(redis, nodeKeys, nodeArgs).compose(v -> channelChange(node, seq, channel, true));
    } else {
      applied = channelChange(node, seq, channel, false).compose(t -> NODE_RELEASE.run(redis, nodeKeys, nodeArgs).map(t));
    }
    return applied;
  }

  private Future<Integer> channelChange(String node, long seq, String channel, boolean occupied) {
    return CHANGE.run(redis, List.of(channelKey(channel)), List.of(node, Long.toString(seq), occupied ? "1" : "0",
        Long.toString(TOMBSTONE_MS))).map(Response::toInteger);
  }

  @Override
  public Future<Boolean> alive(String node, long deadline) {
    return ALIVE.run(redis, List.of(DEADLINES, NODES + "swept:" + node), List.of(node, Long.toString(deadline)))
        .map(r -> r.toInteger() == 1);
  }

  @Override
  public Future<List<String>> sweep(long now) {
    return CLAIM.run(redis, List.of(DEADLINES), List.of(Long.toString(now), Integer.toString(SWEEP_BATCH), NODES,
            Long.toString(SWEPT_MARK_MS)))
        .compose(claimed -> {
          List<Future<String>> removals = new ArrayList<>();
          for (int i = 0; i + 1 < claimed.size(); i += 2) {
            String node = claimed.get(i).toString();
            for (Response ch : claimed.get(i + 1)) {
              String channel = ch.toString();
              removals.add(REMOVE_NODE.run(redis, List.of(channelKey(channel)), List.of(node, Long.toString(TOMBSTONE_MS)))
                  .map(r -> r.toInteger() == VACATED ? channel : null));
            }
          }
          return Future.all(removals).map(all -> {
            List<String> vacated = new ArrayList<>();
            for (Future<String> f : removals) if (f.result() != null) vacated.add(f.result());
            return vacated;
          });
        });
  }

  @Override
  public Future<Void> close() {
    redis.close();
    return Future.succeededFuture();
  }
}
