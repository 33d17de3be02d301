package io.switchboard.presence;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * The webhook queue in Redis (engine {@code redis}): durable, shared by every presence-service JVM, so a restart of
 * the sender loses nothing and several senders never claim the same item. All keys share the hash tag
 * {@code {webhooks}}: every script is atomic and runs on Redis Cluster too.
 *
 * <ul>
 *   <li>{@code sb:webhooks:{webhooks}:due}: sorted set id → due epoch millis (a claimed item's lease end);
 *   <li>{@code …:items}: hash id → item JSON;
 *   <li>{@code …:held}: hash hold key → comma list of the held item ids, until claimed or cancelled;
 *   <li>{@code …:seq}: the id counter.
 * </ul>
 * Nothing expires: items leave by delivery or by being given up after the retry period.
 */
final class RedisWebhookQueue implements WebhookQueue {
  static final String PREFIX = "sb:webhooks:{webhooks}:";
  static final List<String> KEYS = List.of(PREFIX + "due", PREFIX + "items", PREFIX + "held", PREFIX + "seq");

  /** KEYS due, items, held, seq; ARGV kind, holdKey, now, dueAt, items… → 0 when a cancel dropped held items. */
  static final LuaScript ENQUEUE = new LuaScript("""
      if ARGV[1] == 'cancel' and ARGV[2] ~= '' then
        local ids = redis.call('HGET', KEYS[3], ARGV[2])
        if ids then
          redis.call('HDEL', KEYS[3], ARGV[2])
          for id in string.gmatch(ids, '[^,]+') do
            redis.call('HDEL', KEYS[2], id)
            redis.call('ZREM', KEYS[1], id)
          end
          return 0
        end
      end
      local at = ARGV[1] == 'hold' and ARGV[4] or ARGV[3]
      local added = {}
      for i = 5, #ARGV do
        local id = tostring(redis.call('INCR', KEYS[4]))
        redis.call('HSET', KEYS[2], id, ARGV[i])
        redis.call('ZADD', KEYS[1], at, id)
        added[#added + 1] = id
      end
      if ARGV[1] == 'hold' and #added > 0 then
        local list = table.concat(added, ',')
        local prev = redis.call('HGET', KEYS[3], ARGV[2])
        if prev then list = prev .. ',' .. list end
        redis.call('HSET', KEYS[3], ARGV[2], list)
      end
      return 1
      """);

  /** KEYS due, items, held; ARGV now, max, leaseUntil → flat id, item list; claimed items are no longer held. */
  static final LuaScript CLAIM = new LuaScript("""
      local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
      local out = {}
      for _, id in ipairs(ids) do
        local item = redis.call('HGET', KEYS[2], id)
        if item then
          redis.call('ZADD', KEYS[1], ARGV[3], id)
          local hold = cjson.decode(item)['hold']
          if type(hold) == 'string' then redis.call('HDEL', KEYS[3], hold) end
          out[#out + 1] = id
          out[#out + 1] = item
        else
          redis.call('ZREM', KEYS[1], id)
        end
      end
      return out
      """);

  /** KEYS due, items; ARGV ids…. */
  static final LuaScript DONE = new LuaScript("""
      for i = 1, #ARGV do
        redis.call('HDEL', KEYS[2], ARGV[i])
        redis.call('ZREM', KEYS[1], ARGV[i])
      end
      return 1
      """);

  /** KEYS due, items; ARGV dueAt, id, item, id, item…: only items still queued are rescheduled. */
  static final LuaScript RETRY = new LuaScript("""
      for i = 2, #ARGV, 2 do
        if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
          redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
          redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
        end
      end
      return 1
      """);

  private final RedisConnector redis;

  RedisWebhookQueue(RedisConnector redis) {
    this.redis = redis;
  }

  @Override
  public Future<Boolean> enqueue(List<JsonObject> items, Kind kind, String holdKey, long now, long dueAt) {
    List<String> args = new ArrayList<>(List.of(kind.name().toLowerCase(java.util.Locale.ROOT), holdKey == null ? "" : holdKey,
        Long.toString(now), Long.toString(dueAt)));
    for (JsonObject item : items) args.add((kind == Kind.HOLD ? item.copy().put("hold", holdKey) : item).encode());
    if (kind != Kind.CANCEL && items.isEmpty()) return Future.succeededFuture(true);
    return ENQUEUE.run(redis, KEYS, args).map(r -> r.toInteger() == 1);
  }

  @Override
  public Future<List<Claimed>> claim(long now, int max, long leaseUntil) {
    return CLAIM.run(redis, KEYS.subList(0, 3), List.of(Long.toString(now), Integer.toString(max), Long.toString(leaseUntil)))
        .map(r -> {
          List<Claimed> out = new ArrayList<>();
          for (int i = 0; i + 1 < r.size(); i += 2) {
            Response item = r.get(i + 1);
            out.add(new Claimed(r.get(i).toString(), new JsonObject(item.toString())));
          }
          return out;
        });
  }

  @Override
  public Future<Void> done(List<String> ids) {
    if (ids.isEmpty()) return Future.succeededFuture();
    return DONE.run(redis, KEYS.subList(0, 2), ids).mapEmpty();
  }

  @Override
  public Future<Void> retry(List<Claimed> items, long dueAt) {
    if (items.isEmpty()) return Future.succeededFuture();
    List<String> args = new ArrayList<>(List.of(Long.toString(dueAt)));
    for (Claimed c : items) {
      args.add(c.id());
      args.add(c.item().encode());
    }
    return RETRY.run(redis, KEYS.subList(0, 2), args).mapEmpty();
  }

  @Override
  public Future<Long> depth() {
    return redis.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.HLEN).arg(KEYS.get(1))).map(r -> r.toLong());
  }

  @Override
  public Future<Void> close() {
    redis.close();
    return Future.succeededFuture();
  }
}
