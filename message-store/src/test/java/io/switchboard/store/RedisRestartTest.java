package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Redis going away and coming back, seen through the store service on the bus. */
class RedisRestartTest {
  private Vertx vertx;
  private TestRedis redis;

  @AfterEach
  void cleanUp() {
    if (vertx != null) Await.result(vertx.close());
    if (redis != null) redis.stop();
  }

  private Future<JsonObject> append() {
    JsonObject p = new JsonObject().put("channel", "task:restart").put("event", "note").put("data", 1);
    return vertx.eventBus().<JsonObject>request(Addresses.STORE_APPEND, new JsonObject().put("publication", p))
        .map(Message::body);
  }

  @Test
  @DisplayName("while Redis is down appends answer unavailable; after it restarts they work again by themselves")
  void unavailableThenRecovers() {
    redis = TestRedis.dedicated();
    vertx = Vertx.vertx();
    JsonObject config = StoreVerticleTest.config("redis", redis.url());
    Await.result(vertx.deployVerticle(new StoreVerticle(), new DeploymentOptions().setConfig(config)));
    JsonObject before = Await.result(append());
    assertEquals(1, before.getLong("offset"));

    redis.stop();
    for (int i = 0; i < 3; i++) {
      ServiceError e = ServiceError.from(Await.failure(append()), "store");
      assertEquals(ErrorCode.UNAVAILABLE, e.code(), e.getMessage());
      assertTrue(e.getMessage().contains("unavailable"), e.getMessage());
    }

    redis.start();
    Await.until("appends work again", () -> append().transform(ar -> Future.succeededFuture(ar.succeeded())).await());
    // the restarted Redis kept nothing (no persistence in tests): the history was lost, so a new epoch began
    JsonObject after = Await.result(append());
    assertEquals(2, after.getLong("offset"));
    assertTrue(!before.getString("epoch").equals(after.getString("epoch")));
  }
}
