package io.switchboard.auth;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Engine {@code redis}. Layout (prefix {@code sb:auth:}):
 * <ul>
 *   <li>{@code key:<id>} — the API key record as JSON (hash of the key only), no TTL: keys live until deleted;
 *   <li>{@code revoked:subjects} — sorted set, member subject, score revokedAt;
 *   <li>{@code revoked:tokens} — sorted set, member jti, score exp.
 * </ul>
 * An entry is in force while {@code score + life > now} (life = retention for subjects, 0 for tokens). Each write
 * runs one Lua script that keeps the later instant, drops dead entries and moves the key's EXPIREAT to its last
 * entry's end, so the sets expire by themselves once every revocation in them has. Sorted sets (not one key per
 * revocation) because gateways list them all at start; one key each, so cluster mode needs no cross-slot command.
 */
final class RedisAuthStore implements AuthStore {
  static final String PREFIX = "sb:auth:";

  /** KEYS[1] set; ARGV member, score, now, life. Atomic so concurrent writers cannot shorten the set's expiry. */
  private static final String REVOKE_SCRIPT = String.join("\n",
      "local score, now, life = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])",
      "local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])",
      "if (not cur) or tonumber(cur) < score then redis.call('ZADD', KEYS[1], score, ARGV[1]) end",
      "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - life)",
      "local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')",
      "if #last == 0 then return 0 end",
      "redis.call('EXPIREAT', KEYS[1], tonumber(last[2]) + life)",
      "return 1");

  private final RedisConnector redis;
  private final String prefix;
  private final long subjectRetentionSeconds;

  RedisAuthStore(RedisConnector redis, String prefix, long subjectRetentionSeconds) {
    this.redis = redis;
    this.prefix = prefix;
    this.subjectRetentionSeconds = subjectRetentionSeconds;
  }

  @Override
  public Future<Void> putKey(ApiKey key) {
    return redis.send(Request.cmd(Command.SET).arg(keyOf(key.id())).arg(key.toJson().encode())).mapEmpty();
  }

  @Override
  public Future<ApiKey> key(String id) {
    return redis.send(Request.cmd(Command.GET).arg(keyOf(id)))
        .map(r -> r == null ? null : ApiKey.fromJson(new JsonObject(r.toString())));
  }

  @Override
  public Future<Boolean> deleteKey(String id) {
    return redis.send(Request.cmd(Command.DEL).arg(keyOf(id))).map(r -> r != null && r.toLong() > 0);
  }

  @Override
  public Future<Void> revokeSubject(String subject, long revokedAt, long now) {
    return revoke(subjectsKey(), subject, revokedAt, now, subjectRetentionSeconds);
  }

  @Override
  public Future<Void> revokeToken(String jti, long exp, long now) {
    return revoke(tokensKey(), jti, exp, now, 0);
  }

  private Future<Void> revoke(String set, String member, long score, long now, long life) {
    return redis.send(Request.cmd(Command.EVAL).arg(REVOKE_SCRIPT).arg(1).arg(set)
        .arg(member).arg(score).arg(now).arg(life)).mapEmpty();
  }

  @Override
  public Future<Long> subjectRevokedAt(String subject, long now) {
    return redis.send(Request.cmd(Command.ZSCORE).arg(subjectsKey()).arg(subject)).map(r -> {
      if (r == null) return null;
      long at = (long) Double.parseDouble(r.toString());
      return at + subjectRetentionSeconds > now ? at : null;
    });
  }

  @Override
  public Future<Revocations> revocations(long now) {
    return redis.batch(List.of(
            inForce(subjectsKey(), now - subjectRetentionSeconds),
            inForce(tokensKey(), now)))
        .map(rs -> new Revocations(scores(rs.get(0)), scores(rs.get(1))));
  }

  /** Members whose score is strictly above {@code floor}. */
  private static Request inForce(String set, long floor) {
    return Request.cmd(Command.ZRANGEBYSCORE).arg(set).arg("(" + floor).arg("+inf").arg("WITHSCORES");
  }

  /** WITHSCORES answers are pairs [member, score] under RESP3 and a flat list under RESP2: read both. */
  private static Map<String, Long> scores(Response r) {
    Map<String, Long> out = new HashMap<>();
    if (r == null) return out;
    int i = 0;
    while (i < r.size()) {
      Response item = r.get(i);
      if (item.type() == ResponseType.MULTI) {
        out.put(item.get(0).toString(), (long) Double.parseDouble(item.get(1).toString()));
        i++;
      } else {
        out.put(item.toString(), (long) Double.parseDouble(r.get(i + 1).toString()));
        i += 2;
      }
    }
    return out;
  }

  @Override
  public Future<Void> close() {
    redis.close();
    return Future.succeededFuture();
  }

  String keyOf(String id) {
    return prefix + "key:" + id;
  }

  String subjectsKey() {
    return prefix + "revoked:subjects";
  }

  String tokensKey() {
    return prefix + "revoked:tokens";
  }
}
