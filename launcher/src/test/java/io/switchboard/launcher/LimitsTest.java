package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every per-connection limit, at and past it, on a server configured with small limits. */
class LimitsTest {
  static TestServer s;

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("gateway", new JsonObject()
        .put("maxSubscriptions", 3)
        .put("publishRatePerSecond", 5)
        .put("publishBurst", 5)
        .put("connectTimeoutMs", 400)
        .put("pingIntervalMs", 300)
        .put("pongTimeoutMs", 300)
        .put("maxConnectionsPerSubject", 2)
        .put("maxQueueBytes", 64 * 1024));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void maxSubscriptionsAtAndPastTheLimit() {
    try (WsClient c = s.connect(s.token("subs", TestServer.allGrants()))) {
      // the personal channel is the first of 3
      JsonObject r = c.subscribe("task:m1", "task:m2", "task:m3");
      var ch = r.getJsonObject("result").getJsonArray("channels");
      assertTrue(ch.getJsonObject(0).getBoolean("ok"));
      assertTrue(ch.getJsonObject(1).getBoolean("ok"));
      assertEquals("limit_exceeded", ch.getJsonObject(2).getJsonObject("error").getString("code"));
      c.unsubscribe("task:m1");
      assertTrue(c.subscribe("task:m3").getJsonObject("result").getJsonArray("channels").getJsonObject(0).getBoolean("ok"));
    }
  }

  @Test
  void publishRateLimitAtAndPastTheBurst() {
    try (WsClient c = s.connect(s.token("rate", TestServer.allGrants()))) {
      List<JsonObject> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        answers.add(c.request("publish", new JsonObject().put("channel", "task:rate").put("event", "e").put("data", i)));
      }
      long ok = answers.stream().filter(a -> a.containsKey("result")).count();
      assertTrue(ok >= 5, "the burst of 5 passes: " + answers);
      JsonObject limited = answers.get(5).getJsonObject("error");
      if (ok == 5) {
        assertEquals("rate_limited", limited.getString("code"));
        assertTrue(limited.getLong("retryAfterMs") > 0);
      }
      // keep publishing: past the burst the limiter must refuse some
      int refused = 0;
      for (int i = 0; i < 20; i++) {
        JsonObject a = c.request("publish", new JsonObject().put("channel", "task:rate").put("event", "e").put("data", i));
        if (a.containsKey("error")) {
          assertEquals("rate_limited", a.getJsonObject("error").getString("code"));
          refused++;
        }
      }
      assertTrue(refused > 0);
      assertTrue(c.isOpen());
    }
  }

  @Test
  void namespaceRateLimitPerChannel() {
    try (WsClient a = s.connect(s.token("nsrate-a", TestServer.allGrants())); WsClient b = s.connect(s.token("nsrate-b", TestServer.allGrants()))) {
      int refused = 0;
      for (int i = 0; i < 4; i++) {
        WsClient c = i % 2 == 0 ? a : b;
        JsonObject r = c.request("publish", new JsonObject().put("channel", "slow:chan").put("event", "e").put("data", i));
        if (r.containsKey("error")) {
          assertEquals("rate_limited", r.getJsonObject("error").getString("code"));
          assertNotNull(r.getJsonObject("error").getLong("retryAfterMs"));
          refused++;
        }
      }
      assertTrue(refused >= 1, "2/s on slow:* across publishers");
    }
  }

  @Test
  void connectTimeout4503() {
    try (WsClient c = s.open(null)) {
      JsonObject d = c.take("disconnect", f -> "disconnect".equals(f.getString("type")), Duration.ofSeconds(10));
      assertEquals(4503, d.getInteger("code"));
      assertEquals(4503, c.awaitClose());
    }
  }

  @Test
  void noPongCloses4502() throws Exception {
    String token = s.token("deaf", TestServer.allGrants());
    try (RawWs raw = new RawWs(s.wsPort)) {
      raw.sendText(new JsonObject().put("type", "request").put("id", "1").put("method", "connect").put("params", new JsonObject().put("token", token)).encode());
      boolean sawPing = false;
      RawWs.Frame f;
      while ((f = raw.read()) != null) {
        if (f.opcode() == 0x9) sawPing = true;
        if (f.opcode() == 0x8) {
          assertTrue(sawPing, "a ping came before the close");
          assertEquals(4502, f.closeCode());
          return;
        }
      }
      throw new AssertionError("socket ended without a close frame");
    }
  }

  @Test
  void connectionsPerSubjectAtAndPastTheLimit() {
    String token = s.token("popular", TestServer.allGrants());
    try (WsClient a = s.connect(token); WsClient b = s.connect(token); WsClient c = s.open(null)) {
      JsonObject r = c.request("connect", new JsonObject().put("token", token));
      assertEquals("limit_exceeded", r.getJsonObject("error").getString("code"));
      assertEquals(4004, c.awaitClose());
      assertTrue(a.isOpen() && b.isOpen());
    }
  }

  /**
   * A client that stops reading is cut at its queue bound (4500) while another subscriber of the same channel gets
   * every publication, in order.
   */
  @Test
  void slowConsumerIsDisconnectedAndOthersAreUnaffected() throws Exception {
    String token = s.token("slowpoke", TestServer.allGrants());
    String fastToken = s.token("fast", TestServer.allGrants());
    try (RawWs slow = new RawWs(s.wsPort, 4096); WsClient fast = s.connect(fastToken)) {
      slow.sendText(new JsonObject().put("type", "request").put("id", "1").put("method", "connect").put("params", new JsonObject().put("token", token)).encode());
      slow.sendText(new JsonObject().put("type", "subscribe").put("id", "2").put("channels", new io.vertx.core.json.JsonArray().add("typing:flood")).encode());
      // read the connect and subscribe answers, then stop reading
      while (true) {
        RawWs.Frame f = slow.read();
        if (f.opcode() == 1 && f.text().contains("\"id\":\"2\"")) break;
      }
      fast.subscribe("typing:flood");
      String payload = "x".repeat(16 * 1024);
      var fanout = io.switchboard.common.Fanout.of(s.sb.vertx());
      int sent = 0;
      // publish from inside the server (a client's publish rate limit would throttle the flood), in batches the fast
      // reader keeps up with, until the slow one has been cut
      while (sent < 3000 && s.metric("switchboard_disconnects_total{code=\"4500\"") < 1) {
        for (int i = 0; i < 50; i++, sent++) {
          fanout.publish(io.switchboard.common.Publication.event("typing:flood", "blob", sent + ":" + payload));
        }
        int expected = sent;
        Await.until("fast reader caught up to " + expected, Duration.ofSeconds(30),
            () -> fast.seen(f -> "typing:flood".equals(f.getString("channel"))).size() == expected);
      }
      assertEquals(1.0, s.metric("switchboard_disconnects_total{code=\"4500\""), "the slow consumer was cut with 4500");
      assertTrue(sent < 3000);
      assertTrue(fast.isOpen());
      var got = fast.seen(f -> "typing:flood".equals(f.getString("channel")));
      for (int i = 0; i < got.size(); i++) assertTrue(got.get(i).getString("data").startsWith(i + ":"), "in order");
      // what the slow client can still read ends with the 4500 disconnect, or the connection was cut outright
      RawWs.Frame f;
      while ((f = slow.readOrNull()) != null) {
        if (f.opcode() == 1 && f.text().contains("\"disconnect\"")) {
          assertTrue(f.text().contains("4500"), f.text());
        }
        if (f.opcode() == 8) assertEquals(4500, f.closeCode());
      }
    }
  }
}
