package io.switchboard.auth;

import static io.switchboard.auth.AuthHarness.claims;
import static io.switchboard.auth.AuthHarness.grant;
import static io.switchboard.common.test.Await.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Ids;
import io.switchboard.common.test.Await;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The HTTP endpoints whose behaviour depends on storage (keys, key-minted tokens, revocations), run against each
 * engine through real HTTP and the real event bus.
 */
@ExtendWith(VertxExtension.class)
abstract class AuthApiContract {
  AuthHarness auth;
  Vertx vertx;

  abstract AuthHarness deploy(Vertx vertx);

  /** The API key record as the engine stores it, to prove the key itself is not there. */
  abstract JsonObject storedKeyRecord(String id);

  @BeforeEach
  void deployService(Vertx vertx) {
    this.vertx = vertx;
    this.auth = deploy(vertx);
  }

  static String unique(String base) {
    return base + "-" + Ids.hex(8);
  }

  static JsonObject agentKeyBody(String subject) {
    return new JsonObject()
        .put("subject", subject)
        .put("sourceType", "agent")
        .put("ttl", 300)
        .put("channels", new JsonObject().put("cmd", "agent.{sub}.cmd").put("evt", "agent.{sub}.evt"))
        .put("grants", new JsonArray()
            .add(grant("agent.{sub}.cmd", "subscribe", "presence", "history"))
            .add(grant("agent.{sub}.evt", "publish")));
  }

  @Test
  void adminTokenCarriesEveryClaimAndVerifiesWithTheJwks() {
    String subject = unique("u7");
    JsonObject body = new JsonObject().put("subject", subject).put("ttl", 120).put("info", new JsonObject().put("name", "Ann"))
        .put("grants", new JsonArray().add(grant("task:*", "subscribe", "history")));
    JsonObject answer = auth.adminToken(body);
    assertEquals(subject, answer.getString("subject"));
    assertEquals(120, answer.getInteger("ttl"));
    assertEquals(new JsonObject(), answer.getJsonObject("channels"));
    assertEquals(new JsonArray().add(grant("task:*", "subscribe", "history")), answer.getJsonArray("grants"));

    JsonObject c = claims(answer.getString("token"));
    assertEquals(subject, c.getString("sub"));
    assertEquals(120, c.getLong("exp") - c.getLong("iat"));
    assertEquals(Instant.ofEpochSecond(c.getLong("exp")).toString(), answer.getString("expiresAt"));
    assertEquals("switchboard", c.getString("iss"));
    assertEquals("user", c.getString("src"));
    assertEquals(new JsonObject().put("name", "Ann"), c.getJsonObject("info"));
    assertEquals(answer.getJsonArray("grants"), c.getJsonArray("grants"));
    assertFalse(c.getString("jti").isEmpty());
    assertTrue(Math.abs(c.getLong("iat") - System.currentTimeMillis() / 1000) <= 2);

    String kid = auth.get("/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0).getString("kid");
    assertEquals(kid, AuthHarness.header(answer.getString("token")).getString("kid"));
    assertEquals("ES256", AuthHarness.header(answer.getString("token")).getString("alg"));
    User user = result(auth.verifierFromJwks().authenticate(new TokenCredentials(answer.getString("token"))));
    assertEquals(subject, user.principal().getString("sub"));
  }

  @Test
  void adminKeyWorksAsBearerTooAndTwoTokensHaveDistinctIds() {
    JsonObject body = new JsonObject().put("subject", "bearer-user").put("grants", new JsonArray());
    AuthHarness.Reply r = auth.send(HttpMethod.POST, "/v1/tokens", Map.of("Authorization", "Bearer " + auth.adminKey),
        io.vertx.core.buffer.Buffer.buffer(body.encode()));
    assertEquals(200, r.status(), r.body());
    assertEquals("no-store", r.headers().get("cache-control"));
    String other = auth.adminToken(body).getString("token");
    assertFalse(claims(r.json().getString("token")).getString("jti").equals(claims(other).getString("jti")));
  }

  @Test
  void apiKeyMintsATokenForItsSubjectWithThePolicyFilledIn() {
    String subject = unique("a1");
    JsonObject created = auth.createKey(agentKeyBody(subject));
    String id = created.getString("id");
    assertTrue(created.getString("key").startsWith("sbk_" + id + "_"), created.encode());

    AuthHarness.Reply r = auth.post("/v1/tokens", created.getString("key"), null);
    assertEquals(200, r.status(), r.body());
    JsonObject answer = r.json();
    assertEquals(subject, answer.getString("subject"));
    assertEquals(300, answer.getInteger("ttl"));
    assertEquals(new JsonObject().put("cmd", "agent." + subject + ".cmd").put("evt", "agent." + subject + ".evt"),
        answer.getJsonObject("channels"));
    JsonArray expectedGrants = new JsonArray()
        .add(grant("agent." + subject + ".cmd", "subscribe", "presence", "history"))
        .add(grant("agent." + subject + ".evt", "publish"));
    assertEquals(expectedGrants, answer.getJsonArray("grants"));

    JsonObject c = claims(answer.getString("token"));
    assertEquals(subject, c.getString("sub"));
    assertEquals("agent", c.getString("src"));
    assertEquals(expectedGrants, c.getJsonArray("grants"));
    assertEquals(300, c.getLong("exp") - c.getLong("iat"));
    assertNotNull(result(auth.verifierFromJwks().authenticate(new TokenCredentials(answer.getString("token")))));
  }

  @Test
  void apiKeyDefaultsAreServiceSourceAndTheConfiguredTtl() {
    JsonObject created = auth.createKey(new JsonObject().put("subject", unique("svc"))
        .put("grants", new JsonArray().add(grant("jobs:*", "publish"))));
    JsonObject answer = auth.post("/v1/tokens", created.getString("key"),
        new JsonObject().put("info", new JsonObject().put("host", "n1"))).json();
    assertEquals(3600, answer.getInteger("ttl"));
    JsonObject c = claims(answer.getString("token"));
    assertEquals("service", c.getString("src"));
    assertEquals(3600, c.getLong("exp") - c.getLong("iat"));
    assertEquals(new JsonObject().put("host", "n1"), c.getJsonObject("info"));
    assertEquals(new JsonObject(), answer.getJsonObject("channels"));
  }

  @Test
  void theKeyIsNeverStoredInClear() {
    JsonObject created = auth.createKey(agentKeyBody(unique("hidden")));
    String key = created.getString("key");
    // the secret is base64url and may itself contain '_': cut the known "sbk_<id>_" prefix, not at the last '_'
    // (a secret ending in "_x" left a one-letter "secret" that a hash could contain by chance)
    String secret = key.substring(("sbk_" + created.getString("id") + "_").length());
    JsonObject stored = storedKeyRecord(created.getString("id"));
    assertNotNull(stored);
    assertFalse(stored.encode().contains(secret), "stored record holds the secret: " + stored.encode());
    assertEquals(Secrets.hash(key), stored.getString("keyHash"));
    assertEquals(64, stored.getString("keyHash").length());
  }

  @Test
  void aDeletedKeyMintsNothingAndDeletingTwiceIsNotFound() {
    JsonObject created = auth.createKey(agentKeyBody(unique("gone")));
    assertEquals(200, auth.post("/v1/tokens", created.getString("key"), null).status());
    AuthHarness.Reply del = auth.delete("/v1/keys/" + created.getString("id"), auth.adminKey);
    assertEquals(204, del.status(), del.body());
    AuthHarness.Reply after = auth.post("/v1/tokens", created.getString("key"), null);
    assertEquals(401, after.status());
    assertEquals("unauthorized", after.errorCode());
    AuthHarness.Reply again = auth.delete("/v1/keys/" + created.getString("id"), auth.adminKey);
    assertEquals(404, again.status());
    assertEquals("not_found", again.errorCode());
    assertTrue(again.errorMessage().contains(created.getString("id")));
  }

  @Test
  void aWrongSecretOrUnknownKeyIsUnauthorized() {
    JsonObject created = auth.createKey(agentKeyBody(unique("k")));
    String forged = "sbk_" + created.getString("id") + "_" + Ids.secret(24);
    for (String bad : new String[] {forged, "sbk_0000000000000000_abc", "sbk_", "not-a-key"}) {
      AuthHarness.Reply r = auth.post("/v1/tokens", bad, null);
      assertEquals(401, r.status(), bad);
      assertEquals("unauthorized", r.errorCode());
    }
  }

  @Test
  void subjectRevocationIsPublishedListedAndOnlyHitsEarlierTokens() {
    String subject = unique("rev");
    Promise<JsonObject> published = Promise.promise();
    auth.on.await(() -> vertx.eventBus().<JsonObject>consumer(Addresses.AUTH_REVOKED, m -> {
      if (subject.equals(m.body().getString("subject"))) published.tryComplete(m.body());
    }).completion());
    JsonObject grants = new JsonObject().put("subject", subject).put("grants", new JsonArray());
    long before = claims(auth.adminToken(grants).getString("token")).getLong("iat");

    AuthHarness.Reply r = auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("subject", subject));
    assertEquals(202, r.status(), r.body());
    long revokedAt = r.json().getLong("revokedAt");
    assertEquals(new JsonObject().put("subject", subject).put("revokedAt", revokedAt), Await.result(published.future()));
    assertTrue(before <= revokedAt, "the earlier token is covered by the revocation");

    JsonObject listed = auth.on.await(() -> vertx.eventBus().<JsonObject>request(Addresses.AUTH_REVOCATIONS, new JsonObject())).body();
    assertEquals(revokedAt, listed.getJsonObject("subjects").getLong(subject));

    long after = claims(auth.adminToken(grants).getString("token")).getLong("iat");
    assertTrue(after > revokedAt, "a token minted after the revocation must be valid: iat " + after + " revokedAt " + revokedAt);
  }

  @Test
  void tokenRevocationIsPublishedAndListedUntilItsExp() {
    JsonObject token = claims(auth.adminToken(new JsonObject().put("subject", unique("t")).put("grants", new JsonArray()))
        .getString("token"));
    String jti = token.getString("jti");
    Promise<JsonObject> published = Promise.promise();
    auth.on.await(() -> vertx.eventBus().<JsonObject>consumer(Addresses.AUTH_REVOKED, m -> {
      if (jti.equals(m.body().getString("tokenId"))) published.tryComplete(m.body());
    }).completion());

    AuthHarness.Reply r = auth.post("/v1/revocations", auth.adminKey,
        new JsonObject().put("tokenId", jti).put("exp", token.getLong("exp")));
    assertEquals(202, r.status(), r.body());
    assertEquals(new JsonObject().put("tokenId", jti).put("exp", token.getLong("exp")), Await.result(published.future()));
    JsonObject listed = auth.on.await(() -> vertx.eventBus().<JsonObject>request(Addresses.AUTH_REVOCATIONS, new JsonObject())).body();
    assertEquals(token.getLong("exp"), listed.getJsonObject("tokens").getLong(jti));
  }

  @Test
  void tokenRevocationWithoutExpIsKeptForTheMaxTtlAndAnExpiredOneIsForgotten() {
    long now = System.currentTimeMillis() / 1000;
    AuthHarness.Reply r = auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("tokenId", "no-exp-" + Ids.hex(6)));
    assertEquals(202, r.status(), r.body());
    long exp = r.json().getLong("exp");
    assertTrue(exp >= now + 7 * 24 * 3600 && exp <= now + 7 * 24 * 3600 + 2, "exp " + exp);

    String dead = "dead-" + Ids.hex(6);
    assertEquals(202, auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("tokenId", dead).put("exp", now - 10)).status());
    JsonObject listed = auth.on.await(() -> vertx.eventBus().<JsonObject>request(Addresses.AUTH_REVOCATIONS, new JsonObject())).body();
    assertFalse(listed.getJsonObject("tokens").containsKey(dead));
    assertTrue(listed.getJsonObject("tokens").containsKey(r.json().getString("tokenId")));
  }
}
