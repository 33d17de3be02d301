package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Per-request limits of the native protocol at and one past each bound; the connection survives every refusal. */
class RequestLimitsTest {
  private final TestServer s = SharedServer.get();

  private WsClient client() {
    return s.connect(s.token("rl-" + System.nanoTime(), TestServer.allGrants()));
  }

  private static String code(JsonObject answer) {
    return answer.containsKey("error") ? answer.getJsonObject("error").getString("code") : null;
  }

  private static JsonArray strings(int n, int length) {
    return new JsonArray(IntStream.range(0, n).mapToObj(i -> (i + "x".repeat(length)).substring(0, length)).map(Object.class::cast).toList());
  }

  @Test
  void tagsPerPublicationAndTagLength() {
    try (WsClient c = client()) {
      JsonObject p = new JsonObject().put("channel", "task:rl-tags").put("event", "e");
      assertNull(code(c.request("publish", p.copy().put("tags", strings(32, 64)))), "32 tags of 64 chars are accepted");
      assertEquals("bad_request", code(c.request("publish", p.copy().put("tags", strings(33, 8)))));
      assertEquals("bad_request", code(c.request("publish", p.copy().put("tags", strings(1, 65)))));
      c.result("history", new JsonObject().put("channel", "task:rl-tags"));
    }
  }

  @Test
  void idsPerAck() {
    try (WsClient c = client()) {
      c.subscribe("task:rl-ack");
      JsonObject p = new JsonObject().put("channel", "task:rl-ack");
      assertEquals(0, c.result("ack", p.copy().put("ids", strings(1000, 10))).getJsonArray("acked").size(), "1000 ids: answered");
      assertEquals("bad_request", code(c.request("ack", p.copy().put("ids", strings(1001, 10)))));
      c.result("pending", p.copy());
    }
  }

  @Test
  void channelsPerUnsubscribe() {
    try (WsClient c = client()) {
      JsonObject atLimit = c.unsubscribe(strings(512, 12).stream().map(o -> "task:" + o).toArray(String[]::new));
      assertEquals(512, atLimit.getJsonObject("result").getJsonArray("channels").size(), "512 answered per channel");
      JsonObject past = c.unsubscribe(strings(513, 12).stream().map(o -> "task:" + o).toArray(String[]::new));
      assertEquals("limit_exceeded", code(past));
      c.result("presence", new JsonObject().put("channel", "task:rl"));
    }
  }
}
