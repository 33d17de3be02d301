package io.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Ids;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

/** The contract on real Redis, each test under its own key prefix; plus the Redis-only layout promises. */
class RedisAuthStoreTest extends AuthStoreContract {
  private RedisConnector redis;
  private RedisAuthStore redisStore;

  @Override
  AuthStore newStore(Vertx vertx, long subjectRetentionSeconds) {
    redis = RedisConnector.create(vertx, new JsonObject().put("url", TestRedis.shared().url()));
    redisStore = new RedisAuthStore(redis, "sb:auth:test-" + Ids.hex(8) + ":", subjectRetentionSeconds);
    return redisStore;
  }

  private long ttl(String key) {
    return await(() -> redis.send(Request.cmd(Command.TTL).arg(key))).toLong();
  }

  @Test
  void revocationSetsExpireByThemselves() {
    long now = System.currentTimeMillis() / 1000;
    await(() -> store.revokeToken("j", now + 40, now));
    await(() -> store.revokeSubject("u", now, now));
    long tokens = ttl(redisStore.tokensKey());
    long subjects = ttl(redisStore.subjectsKey());
    assertTrue(tokens > 0 && tokens <= 40, "tokens set TTL " + tokens);
    assertTrue(subjects > 0 && subjects <= RETENTION, "subjects set TTL " + subjects);
    // A later-expiring entry pushes the set's expiry out; an earlier one never pulls it in.
    await(() -> store.revokeToken("j-late", now + 90, now));
    await(() -> store.revokeToken("j-early", now + 5, now));
    long after = ttl(redisStore.tokensKey());
    assertTrue(after > 40 && after <= 90, "tokens set TTL after a later entry " + after);
  }

  @Test
  void apiKeysHaveNoTtl() {
    await(() -> store.putKey(sampleKey("kttl")));
    assertEquals(-1, ttl(redisStore.keyOf("kttl")));
  }
}
