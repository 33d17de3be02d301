package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Private channels stay private on EVERY operation: a token granting everything on {@code *} still cannot read
 * someone else's personal channel {@code user:<id>} or a {@code #}-limited channel it is not listed in — not by
 * subscribe, history, pending, presence, presence.setState or ack. The owners themselves can.
 */
class PrivateChannelAccessTest {
  private static final TestServer s = SharedServer.get();
  private static final String PERSONAL = "user:pca-bob";
  private static final String DM = "dm:#pca-bob,pca-carol";
  private static String commandId;

  @BeforeAll
  static void bobHasACommandAndTheDmHasAMessage() {
    try (WsClient carol = s.connect(s.token("pca-carol", TestServer.allGrants()))) {
      // publishing INTO someone's personal channel is allowed with a grant: that is how an agent gets commands
      commandId = carol.result("publish", new JsonObject().put("channel", PERSONAL).put("event", "cmd")
          .put("data", new JsonObject().put("secret", "bob's command")).put("requiresAck", true)).getString("id");
      carol.result("publish", new JsonObject().put("channel", DM).put("event", "dm").put("data", "for bob and carol only"));
      JsonObject sub = carol.subscribe(DM);
      assertTrue(sub.getJsonObject("result").getJsonArray("channels").getJsonObject(0).getBoolean("ok"));
    }
  }

  private static WsClient mallory() {
    return s.connect(s.token("pca-mallory-" + System.nanoTime(), TestServer.allGrants()));
  }

  private static void assertDenied(JsonObject answer, String operation) {
    JsonObject error = answer.getJsonObject("error");
    assertTrue(error != null, operation + " was answered with data: " + answer.encode());
    assertEquals("permission_denied", error.getString("code"), operation + ": " + answer.encode());
    assertTrue(error.getString("message").contains("limited to other subjects"), error.encode());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {PERSONAL, DM})
  void noReadOperationReachesAnotherSubjectsPrivateChannel(String channel) {
    try (WsClient m = mallory()) {
      JsonObject p = new JsonObject().put("channel", channel);
      assertDenied(m.request("history", p.copy()), "history");
      assertDenied(m.request("pending", p.copy()), "pending");
      assertDenied(m.request("presence", p.copy()), "presence");
      assertDenied(m.request("presence.setState", p.copy().put("state", new JsonObject().put("x", 1))), "presence.setState");
      assertDenied(m.request("ack", p.copy().put("ids", new JsonArray().add(commandId))), "ack");
      JsonObject sub = m.subscribe(channel);
      JsonObject one = sub.getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertEquals(false, one.getBoolean("ok"));
      assertEquals("permission_denied", one.getJsonObject("error").getString("code"));
    }
  }

  @Test
  void theOwnersReadTheirOwnChannels() {
    try (WsClient bob = s.connect(s.token("pca-bob", TestServer.grants("dm:*", "subscribe,history,presence")))) {
      // the personal channel needs no grant for its owner
      JsonArray pending = bob.result("pending", new JsonObject().put("channel", PERSONAL)).getJsonArray("publications");
      assertEquals(commandId, pending.getJsonObject(0).getString("id"));
      JsonArray history = bob.result("history", new JsonObject().put("channel", DM)).getJsonArray("publications");
      assertEquals("for bob and carol only", history.getJsonObject(0).getString("data"));
      bob.subscribe(DM);
      JsonArray members = bob.result("presence", new JsonObject().put("channel", DM)).getJsonArray("members");
      assertTrue(members.stream().anyMatch(o -> "pca-bob".equals(((JsonObject) o).getString("subject"))), members.encode());
      JsonObject acked = bob.result("ack", new JsonObject().put("channel", PERSONAL).put("ids", new JsonArray().add(commandId)));
      assertEquals(commandId, acked.getJsonArray("acked").getString(0));
    }
  }
}
