package io.switchboard.launcher;

import static io.switchboard.launcher.GatewayHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * The HTTP presence heartbeat on the shared server: its presence service is the one that times members out (on the
 * Redis engine every server of the test JVM sweeps the same Redis, so a timeout is announced by whichever server
 * claims it; the shared server is the one whose sweeper and fan-out the watcher is on).
 */
class HttpPresenceTest {
  private final TestServer s = SharedServer.get();
  private final GatewayHttp h = new GatewayHttp(s);

  @Test
  void heartbeatJoinsOnceAndTimesOutLikeAWebSocketMember() {
    String token = s.token(new JsonObject().put("subject", "poller").put("grants", TestServer.grants("chat:*", "subscribe,presence"))
        .put("info", new JsonObject().put("name", "Pat")));
    try (WsClient watcher = s.connect(s.token("w2", TestServer.allGrants()))) {
      watcher.subscribe("chat:hb");
      JsonObject hb = ok(h.post("/v1/presence/heartbeat", token, new JsonObject().put("channels", new JsonArray().add("chat:hb"))
          .put("state", new JsonObject().put("status", "polling"))));
      assertEquals("http-poller", hb.getString("client"));
      JsonObject join = watcher.take("join", f -> "presence.join".equals(f.getString("event")) && "poller".equals(f.getJsonObject("data").getString("subject")));
      assertEquals("Pat", join.getJsonObject("data").getJsonObject("info").getString("name"));
      // heartbeats for 3 s (past the 2 s timeout): still present, and joined only once
      long until = System.currentTimeMillis() + 3000;
      while (System.currentTimeMillis() < until) {
        ok(h.post("/v1/presence/heartbeat", token, new JsonObject().put("channels", new JsonArray().add("chat:hb"))));
        sleepish(500);
      }
      assertEquals(1, watcher.seen(f -> "presence.join".equals(f.getString("event"))
          && "poller".equals(f.getJsonObject("data").getString("subject"))).size());
      assertTrue(watcher.seen(f -> "presence.timeout".equals(f.getString("event"))).isEmpty());
      JsonArray members = ok(h.get("/v1/channels/chat:hb/presence", token)).getJsonArray("members");
      assertTrue(members.encode().contains("polling"), members.encode());
      // heartbeats stop: presence.timeout
      JsonObject gone = watcher.take("timeout", f -> "presence.timeout".equals(f.getString("event"))
          && "poller".equals(f.getJsonObject("data").getString("subject")), java.time.Duration.ofSeconds(10));
      assertEquals("http-poller", gone.getJsonObject("data").getString("client"));
    }
    assertEquals(400, h.post("/v1/presence/heartbeat", token, new JsonObject()).status());
    assertEquals(403, h.post("/v1/presence/heartbeat", token, new JsonObject().put("channels", new JsonArray().add("task:x"))).status());
    String typist = s.token("poller-t", TestServer.grants("typing:*", "subscribe"));
    GatewayHttp.Reply off = h.post("/v1/presence/heartbeat", typist, new JsonObject().put("channels", new JsonArray().add("typing:x")));
    assertEquals(400, off.status(), off.raw());
    assertTrue(off.raw().contains("presence is off"), off.raw());
  }

  /** Waits roughly {@code ms} by polling a deadline (the heartbeat loop needs time to pass, not an event). */
  private static void sleepish(long ms) {
    long end = System.currentTimeMillis() + ms;
    Await.until("time passes", java.time.Duration.ofMillis(ms + 2000), () -> System.currentTimeMillis() >= end);
  }

}
