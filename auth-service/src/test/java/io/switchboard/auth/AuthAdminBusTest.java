package io.switchboard.auth;

import static io.switchboard.auth.AuthHarness.grant;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code auth.admin}: the admin API on the event bus (the dashboard's path), with the same answers and errors. */
@ExtendWith(VertxExtension.class)
class AuthAdminBusTest {
  private AuthHarness auth;

  @BeforeEach
  void deploy(Vertx vertx) {
    auth = AuthHarness.memory(vertx);
  }

  private JsonObject admin(String action, JsonObject body) {
    return auth.on.await(() -> auth.vertx.eventBus().<JsonObject>request(Addresses.AUTH_ADMIN,
        new JsonObject().put("action", action).put("body", body).put("by", "test")).map(m -> m.body()));
  }

  private ServiceError adminFails(String action, JsonObject body) {
    Throwable t = auth.on.failure(() -> auth.vertx.eventBus().request(Addresses.AUTH_ADMIN,
        new JsonObject().put("action", action).put("body", body).put("by", "test")));
    return ServiceError.from(t, "auth admin");
  }

  @Test
  void everyActionAnswersAsTheHttpApiDoes() {
    JsonObject token = admin("token", new JsonObject().put("subject", "u1").put("grants", new JsonArray().add(grant("task:*", "subscribe"))));
    assertEquals("u1", token.getString("subject"));
    assertEquals("u1", AuthHarness.claims(token.getString("token")).getString("sub"));

    JsonObject key = admin("key.create", new JsonObject().put("subject", "agent-1").put("grants", new JsonArray().add(grant("agent.{sub}.*", "subscribe"))));
    assertTrue(key.getString("key").startsWith("sbk_"), key.encode());
    assertEquals(200, auth.post("/v1/tokens", key.getString("key"), new JsonObject()).status());
    assertEquals(new JsonObject(), admin("key.delete", new JsonObject().put("id", key.getString("id"))));
    assertEquals(ErrorCode.NOT_FOUND, adminFails("key.delete", new JsonObject().put("id", key.getString("id"))).code());

    admin("revoke", new JsonObject().put("subject", "u1"));
    JsonObject inForce = auth.on.await(() -> auth.vertx.eventBus().<JsonObject>request(Addresses.AUTH_REVOCATIONS, new JsonObject()).map(m -> m.body()));
    assertTrue(inForce.getJsonObject("subjects").containsKey("u1"), inForce.encode());
  }

  @Test
  void badActionsAndBodiesAreBadRequests() {
    ServiceError unknown = adminFails("drop", new JsonObject());
    assertEquals(ErrorCode.BAD_REQUEST, unknown.code());
    assertTrue(unknown.getMessage().contains("unknown admin action 'drop'"), unknown.getMessage());
    ServiceError badGrant = adminFails("token", new JsonObject().put("subject", "u").put("grants", new JsonArray().add(grant("a", "fly"))));
    assertEquals(ErrorCode.BAD_REQUEST, badGrant.code());
    assertTrue(badGrant.getMessage().contains("fly"), badGrant.getMessage());
  }
}
