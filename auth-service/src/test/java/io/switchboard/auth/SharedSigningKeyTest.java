package io.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * Several auth JVMs on one Redis with no configured key pair sign with ONE generated key, so a gateway that knows
 * any of them verifies every token. On the memory engine each JVM has its own.
 */
class SharedSigningKeyTest {
  private static String kid(AuthHarness h) {
    return h.get("/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0).getString("kid");
  }

  @Test
  void authJvmsOnOneRedisShareTheGeneratedKey() {
    String url = TestRedis.shared().url();
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    try {
      AuthHarness a = AuthHarness.redis(first, url);
      AuthHarness b = AuthHarness.redis(second, url);
      assertEquals(kid(a), kid(b));
      // a token minted by one verifies with the other's public keys
      JsonObject token = a.adminToken(new JsonObject().put("subject", "u1").put("grants", new io.vertx.core.json.JsonArray()));
      assertEquals(kid(b), AuthHarness.header(token.getString("token")).getString("kid"));
    } finally {
      Await.result(first.close());
      Await.result(second.close());
    }
  }

  @Test
  void memoryEngineJvmsEachGenerateTheirOwn() {
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    try {
      assertNotEquals(kid(AuthHarness.memory(first)), kid(AuthHarness.memory(second)));
    } finally {
      Await.result(first.close());
      Await.result(second.close());
    }
  }
}
