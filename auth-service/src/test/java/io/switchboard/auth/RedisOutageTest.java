package io.switchboard.auth;

import static io.switchboard.auth.AuthHarness.grant;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With Redis down every storage-backed answer is a JSON 503 unavailable, and service resumes when Redis is back. */
@ExtendWith(VertxExtension.class)
class RedisOutageTest {

  private static void assertUnavailable(AuthHarness.Reply r) {
    assertEquals(503, r.status(), r.body());
    assertEquals("unavailable", r.errorCode());
  }

  @Test
  void storageOutageAnswers503AndRecovers(Vertx vertx) {
    TestRedis redis = TestRedis.dedicated();
    try {
      AuthHarness auth = AuthHarness.redis(vertx, redis.url());
      JsonObject body = new JsonObject().put("subject", "a1").put("grants", new JsonArray().add(grant("x", "publish")));
      String key = auth.createKey(body).getString("key");
      redis.stop();

      assertUnavailable(auth.post("/v1/keys", auth.adminKey, body));
      assertUnavailable(auth.post("/v1/tokens", key, null));
      assertUnavailable(auth.post("/v1/tokens", auth.adminKey, body));
      assertUnavailable(auth.delete("/v1/keys/abc", auth.adminKey));
      assertUnavailable(auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("subject", "a1")));
      Throwable busFailure = auth.on.failure(() -> vertx.eventBus().request(Addresses.AUTH_REVOCATIONS, new JsonObject()));
      assertEquals(ErrorCode.UNAVAILABLE, ServiceError.from(busFailure, "auth").code());
      // Needs no storage: still served.
      assertEquals(200, auth.get("/.well-known/jwks.json").status());

      redis.start();
      Await.until("minting works again once Redis is back",
          () -> auth.post("/v1/tokens", auth.adminKey, body).status() == 200);
      assertEquals(201, auth.post("/v1/keys", auth.adminKey, body).status());
    } finally {
      redis.stop();
    }
  }
}
