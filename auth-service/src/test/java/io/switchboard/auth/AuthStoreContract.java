package io.switchboard.auth;

import io.switchboard.common.test.OnContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The storage contract of the auth-service; every engine runs these same assertions. */
@ExtendWith(VertxExtension.class)
abstract class AuthStoreContract {
  static final long RETENTION = 100;
  static final long NOW = System.currentTimeMillis() / 1000;

  AuthStore store;
  OnContext on;

  abstract AuthStore newStore(Vertx vertx, long subjectRetentionSeconds);

  @BeforeEach
  void open(Vertx vertx) {
    on = new OnContext(vertx);
    store = newStore(vertx, RETENTION);
  }

  <T> T await(Supplier<Future<T>> call) {
    return on.await(call);
  }

  @AfterEach
  void close() {
    await(() -> store.close());
  }

  static ApiKey sampleKey(String id) {
    return new ApiKey(id, Secrets.hash("sbk_" + id + "_secret"), "a1", "agent", 300,
        new JsonObject().put("cmd", "agent.{sub}.cmd"),
        new JsonArray().add(AuthHarness.grant("agent.{sub}.cmd", "subscribe")), NOW);
  }

  @Test
  void keyRoundTripsAndUnknownIsNull() {
    ApiKey key = sampleKey("k1");
    await(() -> store.putKey(key));
    assertEquals(key.toJson(), await(() -> store.key("k1")).toJson());
    assertNull(await(() -> store.key("nope")));
  }

  @Test
  void deleteRemovesOnceThenReportsMissing() {
    await(() -> store.putKey(sampleKey("k2")));
    assertTrue(await(() -> store.deleteKey("k2")));
    assertNull(await(() -> store.key("k2")));
    assertFalse(await(() -> store.deleteKey("k2")));
  }

  @Test
  void subjectRevocationKeepsTheLatestInstant() {
    await(() -> store.revokeSubject("u1", NOW, NOW));
    await(() -> store.revokeSubject("u1", NOW - 50, NOW));
    assertEquals(NOW, await(() -> store.subjectRevokedAt("u1", NOW)));
    await(() -> store.revokeSubject("u1", NOW + 5, NOW + 5));
    assertEquals(NOW + 5, await(() -> store.subjectRevokedAt("u1", NOW + 5)));
    assertNull(await(() -> store.subjectRevokedAt("someone-else", NOW)));
  }

  @Test
  void subjectRevocationLastsExactlyTheRetention() {
    await(() -> store.revokeSubject("u2", NOW, NOW));
    assertEquals(NOW, await(() -> store.subjectRevokedAt("u2", NOW + RETENTION - 1)));
    assertEquals(Map.of("u2", NOW), await(() -> store.revocations(NOW + RETENTION - 1)).subjects());
    assertNull(await(() -> store.subjectRevokedAt("u2", NOW + RETENTION)));
    assertTrue(await(() -> store.revocations(NOW + RETENTION)).subjects().isEmpty());
  }

  @Test
  void tokenRevocationLastsUntilExp() {
    await(() -> store.revokeToken("j1", NOW + 30, NOW));
    assertEquals(Map.of("j1", NOW + 30), await(() -> store.revocations(NOW + 29)).tokens());
    assertTrue(await(() -> store.revocations(NOW + 30)).tokens().isEmpty());
  }

  @Test
  void alreadyExpiredTokenRevocationIsNotListed() {
    await(() -> store.revokeToken("j-old", NOW - 1, NOW));
    assertTrue(await(() -> store.revocations(NOW)).tokens().isEmpty());
  }

  @Test
  void listsBothKindsAndPrunesOnlyTheDead() {
    await(() -> store.revokeSubject("u3", NOW, NOW));
    await(() -> store.revokeToken("j2", NOW + 10, NOW));
    await(() -> store.revokeToken("j3", NOW + 1000, NOW));
    Revocations now = await(() -> store.revocations(NOW));
    assertEquals(Map.of("u3", NOW), now.subjects());
    assertEquals(Map.of("j2", NOW + 10, "j3", NOW + 1000), now.tokens());
    // A later write prunes j2 (dead at NOW + 20) but keeps j3.
    await(() -> store.revokeToken("j4", NOW + 500, NOW + 20));
    assertEquals(Map.of("j3", NOW + 1000, "j4", NOW + 500), await(() -> store.revocations(NOW + 20)).tokens());
    assertEquals(new JsonObject().put("u3", NOW), await(() -> store.revocations(NOW + 20)).toJson().getJsonObject("subjects"));
  }
}
