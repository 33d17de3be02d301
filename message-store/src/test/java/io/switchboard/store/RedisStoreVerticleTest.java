package io.switchboard.store;

import io.switchboard.common.test.TestRedis;
import org.junit.jupiter.api.BeforeAll;

/** {@link StoreVerticleTest} on the Redis engine: the same requests, replies and fan-out order. */
class RedisStoreVerticleTest extends StoreVerticleTest {
  @BeforeAll
  static void start() {
    deploy(config("redis", TestRedis.shared().url()));
  }
}
