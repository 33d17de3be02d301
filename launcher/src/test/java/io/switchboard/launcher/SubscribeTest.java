package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Subscribe answers per channel: every denial in one frame, never all-or-nothing. */
class SubscribeTest {
  private final TestServer s = SharedServer.get();

  @Test
  void permissionDenialsPerChannelInOneSubscribe() {
    String token = s.token("alice", TestServer.grants("task:*", "subscribe", "dm:*", "subscribe", "user:*", "subscribe"));
    try (WsClient c = s.connect(token)) {
      JsonObject r = c.subscribe("task:1", "chat:lobby", "bad name", "nope:1", "user:bob", "user:alice",
          "dm:#alice,bob", "dm:#bob,carol", "task:1");
      JsonArray ch = r.getJsonObject("result").getJsonArray("channels");
      assertEquals(9, ch.size());
      assertOk(ch.getJsonObject(0), "task:1");
      assertError(ch.getJsonObject(1), "chat:lobby", "permission_denied");
      assertError(ch.getJsonObject(2), "bad name", "bad_request");
      assertError(ch.getJsonObject(3), "nope:1", "unknown_channel");
      assertError(ch.getJsonObject(4), "user:bob", "permission_denied");
      assertError(ch.getJsonObject(5), "user:alice", "already_subscribed");
      assertOk(ch.getJsonObject(6), "dm:#alice,bob");
      assertError(ch.getJsonObject(7), "dm:#bob,carol", "permission_denied");
      assertError(ch.getJsonObject(8), "task:1", "already_subscribed");
      assertTrue(ch.getJsonObject(1).getJsonObject("error").getString("message").contains("chat:lobby"));
    }
  }

  @Test
  void subscribeAnswerCarriesThePositionAndLiveEventsFollowIt() {
    String token = s.token("sub-pos", TestServer.allGrants());
    try (WsClient pub = s.connect(token)) {
      pub.result("publish", new JsonObject().put("channel", "task:pos").put("event", "e").put("data", 1));
      pub.result("publish", new JsonObject().put("channel", "task:pos").put("event", "e").put("data", 2));
      try (WsClient c = s.connect(token)) {
        JsonObject ans = c.subscribe("task:pos").getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        assertEquals(2L, ans.getLong("offset"));
        assertNull(ans.getValue("recovered"));
        pub.result("publish", new JsonObject().put("channel", "task:pos").put("event", "e").put("data", 3));
        assertEquals(3L, c.event("task:pos", "e").getLong("offset"));
      }
    }
  }

  @Test
  void unsubscribeStopsDeliveryAndAnswersPerChannel() {
    String token = s.token("unsub", TestServer.allGrants());
    try (WsClient c = s.connect(token); WsClient pub = s.connect(token)) {
      c.subscribe("task:u1");
      JsonArray r = c.unsubscribe("task:u1", "task:u2").getJsonObject("result").getJsonArray("channels");
      assertTrue(r.getJsonObject(0).getBoolean("ok"));
      assertEquals("not_subscribed", r.getJsonObject(1).getJsonObject("error").getString("code"));
      pub.result("publish", new JsonObject().put("channel", "task:u1").put("event", "gone").put("data", 1));
      // a later publication on another channel proves the first one would have arrived by now
      c.subscribe("task:u3");
      pub.result("publish", new JsonObject().put("channel", "task:u3").put("event", "marker").put("data", 1));
      c.event("task:u3", "marker");
      assertTrue(c.seen(f -> "task:u1".equals(f.getString("channel")) && "gone".equals(f.getString("event"))).isEmpty());
    }
  }

  @Test
  void ephemeralChannelsDeliverWithoutOffsets() {
    String token = s.token("typist", TestServer.allGrants());
    try (WsClient a = s.connect(token); WsClient b = s.connect(token)) {
      JsonObject ans = b.subscribe("typing:room").getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertTrue(ans.getBoolean("ok"));
      assertFalse(ans.containsKey("offset"));
      JsonObject r = a.result("publish", new JsonObject().put("channel", "typing:room").put("event", "typing").put("data", true));
      assertFalse(r.containsKey("offset"));
      JsonObject ev = b.event("typing:room", "typing");
      assertFalse(ev.containsKey("offset"));
      assertEquals(r.getString("id"), ev.getString("id"));
      JsonObject acked = a.request("publish", new JsonObject().put("channel", "typing:room").put("event", "t").put("requiresAck", true));
      assertEquals("bad_request", acked.getJsonObject("error").getString("code"));
    }
  }

  @Test
  void namespaceWithoutClientPublishRefusesClients() {
    String token = s.token("feeder", TestServer.allGrants());
    try (WsClient a = s.connect(token)) {
      JsonObject r = a.request("publish", new JsonObject().put("channel", "feed:x").put("event", "e").put("data", 1));
      assertEquals("permission_denied", r.getJsonObject("error").getString("code"));
    }
  }

  static void assertOk(JsonObject answer, String channel) {
    assertEquals(channel, answer.getString("channel"));
    assertTrue(answer.getBoolean("ok"), answer.encode());
  }

  static void assertError(JsonObject answer, String channel, String code) {
    assertEquals(channel, answer.getString("channel"));
    assertFalse(answer.getBoolean("ok"), answer.encode());
    assertEquals(code, answer.getJsonObject("error").getString("code"), answer.encode());
  }
}
