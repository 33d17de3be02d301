package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Expiry (4501), refresh in place, revocation by subject and by token id (4003), header auth. */
class TokenLifecycleTest {
  private final TestServer s = SharedServer.get();

  private String shortToken(String subject, int ttl, io.vertx.core.json.JsonArray grants) {
    return s.token(new JsonObject().put("subject", subject).put("grants", grants).put("ttl", ttl));
  }

  @Test
  void expiredTokenDisconnects4501() {
    try (WsClient c = s.connect(shortToken("exp1", 1, TestServer.allGrants()))) {
      JsonObject d = c.take("disconnect", f -> "disconnect".equals(f.getString("type")), Duration.ofSeconds(10));
      assertEquals(4501, d.getInteger("code"));
      assertTrue(d.getBoolean("reconnect"));
      assertEquals(4501, c.awaitClose());
    }
  }

  @Test
  void refreshInPlaceExtendsTheConnectionAndDropsUngrantedChannels() {
    try (WsClient c = s.connect(shortToken("ref1", 2, TestServer.grants("task:*", "subscribe")))) {
      Instant firstExpiry = Instant.parse(c.connectResult.getString("expiresAt"));
      c.subscribe("task:keep", "task:lose");
      String next = shortToken("ref1", 60, TestServer.grants("task:keep", "subscribe"));
      JsonObject r = c.result("refresh", new JsonObject().put("token", next));
      assertTrue(Instant.parse(r.getString("expiresAt")).isAfter(firstExpiry));
      JsonObject un = c.take("unsubscribed", f -> "unsubscribed".equals(f.getString("type")));
      assertEquals("task:lose", un.getString("channel"));
      // past the first token's expiry the connection is still up
      Await.until("first token expired", () -> Instant.now().isAfter(firstExpiry.plusMillis(1500)));
      c.send(new JsonObject().put("type", "ping"));
      c.take("pong", f -> "pong".equals(f.getString("type")));
      assertTrue(c.isOpen());
    }
  }

  @Test
  void refreshWithAnotherSubjectIsRefused() {
    try (WsClient c = s.connect(s.token("ref2", TestServer.allGrants()))) {
      JsonObject r = c.request("refresh", new JsonObject().put("token", s.token("someone-else", TestServer.allGrants())));
      assertEquals("permission_denied", r.getJsonObject("error").getString("code"));
      assertTrue(c.isOpen());
    }
  }

  @Test
  void revokingASubjectClosesItsConnections4003AndVoidsItsTokens() {
    String token = s.token("revoke-me", TestServer.allGrants());
    try (WsClient victim = s.connect(token); WsClient bystander = s.connect(s.token("bystander", TestServer.allGrants()))) {
      TestServer.Reply r = s.httpCall(HttpMethod.POST, "/v1/revocations", TestServer.ADMIN_KEY, new JsonObject().put("subject", "revoke-me").encode());
      assertEquals(202, r.status(), r.raw());
      JsonObject d = victim.take("disconnect", f -> "disconnect".equals(f.getString("type")));
      assertEquals(4003, d.getInteger("code"));
      assertEquals(4003, victim.awaitClose());
      bystander.send(new JsonObject().put("type", "ping"));
      bystander.take("pong", f -> "pong".equals(f.getString("type")));
      assertTrue(bystander.isOpen());
    }
    // the old token is void for new connections too
    try (WsClient again = s.open(null)) {
      JsonObject r = again.request("connect", new JsonObject().put("token", token));
      assertEquals("unauthorized", r.getJsonObject("error").getString("code"));
      assertEquals(4003, again.awaitClose());
    }
    // a token minted after the revocation works
    long revokedSecond = Instant.now().getEpochSecond();
    Await.until("next second", () -> Instant.now().getEpochSecond() > revokedSecond);
    try (WsClient fresh = s.connect(s.token("revoke-me", TestServer.allGrants()))) {
      assertTrue(fresh.isOpen());
    }
  }

  @Test
  void revokingATokenIdClosesOnlyThatToken() {
    String t1 = s.token("two-tokens", TestServer.allGrants());
    String t2 = s.token("two-tokens", TestServer.allGrants());
    String jti = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(t1.split("\\.")[1]))).getString("jti");
    try (WsClient a = s.connect(t1); WsClient b = s.connect(t2)) {
      TestServer.Reply r = s.httpCall(HttpMethod.POST, "/v1/revocations", TestServer.ADMIN_KEY, new JsonObject().put("tokenId", jti).encode());
      assertEquals(202, r.status(), r.raw());
      assertEquals(4003, a.awaitClose());
      b.send(new JsonObject().put("type", "ping"));
      b.take("pong", f -> "pong".equals(f.getString("type")));
      assertTrue(b.isOpen());
    }
  }

  @Test
  void authorizationHeaderConnectsWithoutAConnectFrame() {
    try (WsClient c = s.open(s.token("header-auth", TestServer.allGrants()))) {
      JsonObject connected = c.take("connected", f -> "connected".equals(f.getString("type")));
      assertEquals("header-auth", connected.getJsonObject("result").getString("subject"));
      JsonObject sub = c.subscribe("task:hdr");
      assertTrue(sub.getJsonObject("result").getJsonArray("channels").getJsonObject(0).getBoolean("ok"));
    }
  }

  @Test
  void expiredTokenAtConnectIsTokenExpired() {
    String token = shortToken("late", 1, TestServer.allGrants());
    long exp = Instant.now().getEpochSecond() + 1;
    Await.until("token expired", () -> Instant.now().getEpochSecond() > exp);
    try (WsClient c = s.open(null)) {
      JsonObject r = c.request("connect", new JsonObject().put("token", token));
      assertEquals("token_expired", r.getJsonObject("error").getString("code"));
      assertEquals(4501, c.awaitClose());
    }
  }
}
