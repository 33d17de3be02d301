package io.switchboard.store;

import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The storage contract on the Redis engine, against the shared test Redis (channels are unique per test). */
class RedisMessageStoreTest extends MessageStoreContract {
  static RedisMessageStore open(Vertx vertx, String url, StoreSettings settings) {
    return new RedisMessageStore(RedisConnector.create(vertx, new JsonObject().put("url", url)), settings);
  }

  @Override
  MessageStore newStore(Vertx vertx, StoreSettings settings) {
    return open(vertx, TestRedis.shared().url(), settings);
  }

  @Override
  MessageStore sameDataStore() {
    return track(newStore(vertx, SETTINGS)); // a second client: its own connection, racing through Redis
  }
}
