package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** History with every filter, and idempotent publish. */
class HistoryTest {
  private static final TestServer s = SharedServer.get();
  private static final String CH = "hist:h1";
  private static String epoch;
  private static long betweenMillis;

  @BeforeAll
  static void publishMixture() {
    String user = s.token("hist-user", TestServer.allGrants());
    String agent = s.token(new JsonObject().put("subject", "hist-agent").put("sourceType", "agent").put("grants", TestServer.allGrants()));
    try (WsClient u = s.connect(user); WsClient a = s.connect(agent)) {
      epoch = u.result("publish", p(1, "low", List.of("x"), false)).getString("epoch");
      long second = java.time.Instant.parse(u.result("publish", p(2, "high", List.of("y"), true)).getString("timestamp")).toEpochMilli();
      // the third gets a later timestamp than the second: history from its timestamp starts at it
      Await(() -> System.currentTimeMillis() > second + 2);
      betweenMillis = java.time.Instant.parse(a.result("publish", p(3, "critical", List.of("x", "z"), true)).getString("timestamp")).toEpochMilli();
      a.result("publish", p(4, "normal", List.of(), false));
    }
  }

  private static void Await(java.util.function.BooleanSupplier b) {
    io.switchboard.common.test.Await.until("clock", b);
  }

  private static JsonObject p(int n, String priority, List<String> tags, boolean ack) {
    return new JsonObject().put("channel", CH).put("event", "e" + n).put("data", n).put("priority", priority)
        .put("tags", new JsonArray(tags)).put("requiresAck", ack);
  }

  private List<Integer> history(JsonObject params) {
    try (WsClient c = s.connect(s.token("hist-reader", TestServer.allGrants()))) {
      JsonObject r = c.result("history", params.put("channel", CH));
      assertEquals(4L, r.getLong("offset"));
      assertEquals(epoch, r.getString("epoch"));
      return r.getJsonArray("publications").stream().map(o -> ((JsonObject) o).getInteger("data")).toList();
    }
  }

  @Test
  void allInOrder() {
    assertEquals(List.of(1, 2, 3, 4), history(new JsonObject()));
  }

  @Test
  void reverseAndLimit() {
    assertEquals(List.of(4, 3), history(new JsonObject().put("reverse", true).put("limit", 2)));
    assertEquals(List.of(1, 2), history(new JsonObject().put("limit", 2)));
  }

  @Test
  void sinceOffsetAndSinceTime() {
    assertEquals(List.of(3, 4), history(new JsonObject().put("since", new JsonObject().put("offset", 2).put("epoch", epoch))));
    assertEquals(List.of(3, 4), history(new JsonObject().put("sinceTime", betweenMillis)));
    assertEquals(List.of(3, 4), history(new JsonObject().put("sinceTime", java.time.Instant.ofEpochMilli(betweenMillis).toString())));
  }

  @Test
  void filters() {
    assertEquals(List.of(2, 3), history(new JsonObject().put("filter", new JsonObject().put("priority", new JsonArray().add("high").add("critical")))));
    assertEquals(List.of(1, 3), history(new JsonObject().put("filter", new JsonObject().put("tags", new JsonArray().add("x")))));
    assertEquals(List.of(3, 4), history(new JsonObject().put("filter", new JsonObject().put("sourceType", new JsonArray().add("agent")))));
    assertEquals(List.of(2, 3), history(new JsonObject().put("filter", new JsonObject().put("unacked", true))));
  }

  @Test
  void errors() {
    try (WsClient c = s.connect(s.token("hist-nogrant", TestServer.grants(CH, "subscribe")))) {
      assertEquals("permission_denied", c.request("history", new JsonObject().put("channel", CH)).getJsonObject("error").getString("code"));
    }
    try (WsClient c = s.connect(s.token("hist-bad", TestServer.allGrants()))) {
      JsonObject wrongEpoch = c.request("history", new JsonObject().put("channel", CH).put("since", new JsonObject().put("offset", 1).put("epoch", "zzz")));
      assertEquals("unrecoverable_position", wrongEpoch.getJsonObject("error").getString("code"));
      JsonObject badLimit = c.request("history", new JsonObject().put("channel", CH).put("limit", 0));
      assertEquals("bad_request", badLimit.getJsonObject("error").getString("code"));
      assertTrue(badLimit.getJsonObject("error").getString("message").contains("limit"));
      JsonObject badPriority = c.request("history", new JsonObject().put("channel", CH).put("filter", new JsonObject().put("priority", new JsonArray().add("urgent"))));
      assertTrue(badPriority.getJsonObject("error").getString("message").contains("urgent"));
    }
  }

  @Test
  void idempotentPublishReturnsTheFirstResultAndDeliversOnce() {
    String token = s.token("idem", TestServer.allGrants());
    try (WsClient sub = s.connect(token); WsClient pub = s.connect(token)) {
      sub.subscribe("task:idem");
      JsonObject params = new JsonObject().put("channel", "task:idem").put("event", "cmd").put("data", "once").put("idempotencyKey", "k-9");
      JsonObject first = pub.result("publish", params);
      JsonObject again = pub.result("publish", params.copy());
      assertEquals(first.getString("id"), again.getString("id"));
      assertEquals(first.getLong("offset"), again.getLong("offset"));
      pub.result("publish", new JsonObject().put("channel", "task:idem").put("event", "marker").put("data", 0));
      sub.event("task:idem", "marker");
      assertEquals(1, sub.seen(f -> "cmd".equals(f.getString("event"))).size());
      JsonObject h = pub.result("history", new JsonObject().put("channel", "task:idem"));
      assertEquals(2, h.getJsonArray("publications").size());
    }
  }
}
