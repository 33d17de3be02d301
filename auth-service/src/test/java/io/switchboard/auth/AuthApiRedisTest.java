package io.switchboard.auth;


import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

class AuthApiRedisTest extends AuthApiContract {
  @Override
  AuthHarness deploy(Vertx vertx) {
    return AuthHarness.redis(vertx, TestRedis.shared().url());
  }

  @Override
  JsonObject storedKeyRecord(String id) {
    RedisConnector redis = RedisConnector.create(vertx, new JsonObject().put("url", TestRedis.shared().url()));
    try {
      Response r = auth.on.await(() -> redis.send(Request.cmd(Command.GET).arg(RedisAuthStore.PREFIX + "key:" + id)));
      return r == null ? null : new JsonObject(r.toString());
    } finally {
      redis.close();
    }
  }
}
