package io.switchboard.store;

import io.switchboard.common.test.TestRedis;
import org.junit.jupiter.api.BeforeAll;

/** {@link StoreAnswersTest} on the Redis engine. */
class RedisStoreAnswersTest extends StoreAnswersTest {
  @BeforeAll
  static void start() {
    deploy("redis", TestRedis.shared().url());
  }
}
