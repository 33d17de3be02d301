package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Ids;
import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The personal channel {@code user:<sub>} costs nothing at connect (no store read: its position is a lazy one, an
 * epoch naming the moment) and still loses nothing: publications reach the connected client, the first one on a
 * channel that already had history brings along what was stored since the connect (and nothing older), and a
 * reconnect that recovers from the lazy position gets everything published meanwhile. Runs on both engines (the
 * suite's Redis execution).
 */
class LazyPersonalChannelTest {
  private final TestServer s = SharedServer.get();
  /** The gateway's tolerance for clock differences: publications this close before a connect may come along. */
  private static final long CLOCK_SKEW_MS = 1000;

  private String subject(String name) {
    return name + "-" + Ids.hex(4);
  }

  private static JsonObject cmd(String channel, int n) {
    return new JsonObject().put("channel", channel).put("event", "cmd").put("data", n);
  }

  private static JsonObject position(WsClient c) {
    return c.connectResult.getJsonArray("subscriptions").getJsonObject(0);
  }

  private static List<Integer> personalData(WsClient c, String channel) {
    return c.seen(f -> "event".equals(f.getString("type")) && channel.equals(f.getString("channel")))
        .stream().map(f -> f.getInteger("data")).toList();
  }

  /** Waits (polling the clock) until every publication so far is clearly older than a connect made now. */
  private static void pastTheSkew(long lastPublishedAt) {
    Await.until("the clock passes the skew allowance", Duration.ofSeconds(5),
        () -> System.currentTimeMillis() > lastPublishedAt + CLOCK_SKEW_MS + 50);
  }

  @Test
  void connectGivesALazyPositionAndLivePublicationsArrive() {
    String agent = subject("lazy-live");
    String channel = "user:" + agent;
    String boss = s.token("lazy-boss", TestServer.grants(channel, "publish"));
    try (WsClient a = s.connect(s.token(agent, TestServer.grants()))) {
      JsonObject p = position(a);
      assertEquals(channel, p.getString("channel"));
      assertTrue(p.getBoolean("ok"), p.encode());
      assertEquals(0L, p.getLong("offset"));
      assertTrue(p.getString("epoch").startsWith("~"), "a lazy epoch, not one the store made: " + p.encode());
      try (WsClient b = s.connect(boss)) {
        for (int i = 1; i <= 3; i++) b.result("publish", cmd(channel, i));
      }
      String epoch = null;
      for (int i = 1; i <= 3; i++) {
        JsonObject ev = a.event(channel, "cmd");
        assertEquals(i, ev.getInteger("data"));
        assertEquals(i, ev.getLong("offset"));
        epoch = ev.getString("epoch");
      }
      assertNotEquals(p.getString("epoch"), epoch, "events carry the channel's real epoch");
    }
  }

  @Test
  void firstPublicationOnAChannelWithHistoryBringsWhatFollowedTheConnectAndNothingOlder() {
    String agent = subject("lazy-hist");
    String channel = "user:" + agent;
    try (WsClient b = s.connect(s.token("lazy-boss", TestServer.grants(channel, "publish")))) {
      b.result("publish", cmd(channel, 1));
      b.result("publish", cmd(channel, 2));
      pastTheSkew(System.currentTimeMillis());
      try (WsClient a = s.connect(s.token(agent, TestServer.grants()))) {
        assertTrue(position(a).getString("epoch").startsWith("~"));
        b.result("publish", cmd(channel, 3));
        b.result("publish", cmd(channel, 4));
        assertEquals(3, a.event(channel, "cmd").getInteger("data"));
        assertEquals(4, a.event(channel, "cmd").getInteger("data"));
        // a publication after these: whatever came before it has arrived by then, so the old ones never did
        b.result("publish", cmd(channel, 5));
        assertEquals(5, a.event(channel, "cmd").getInteger("data"));
        assertEquals(List.of(3, 4, 5), personalData(a, channel));
      }
    }
  }

  @Test
  void reconnectRecoversFromTheLazyPosition() {
    String agent = subject("lazy-rec");
    String channel = "user:" + agent;
    String token = s.token(agent, TestServer.grants());
    JsonObject position;
    try (WsClient a = s.connect(token)) {
      position = position(a);
    }
    try (WsClient b = s.connect(s.token("lazy-boss", TestServer.grants(channel, "publish")))) {
      b.result("publish", cmd(channel, 1));
      b.result("publish", cmd(channel, 2));
      try (WsClient a = s.open(null)) {
        JsonObject r = a.request("connect", new JsonObject().put("token", token).put("recover",
            new JsonObject().put("offset", position.getLong("offset")).put("epoch", position.getString("epoch"))));
        JsonObject sub = r.getJsonObject("result").getJsonArray("subscriptions").getJsonObject(0);
        assertTrue(sub.getBoolean("recovered"), r.encode());
        assertEquals(2L, sub.getLong("offset"), "the answer has the channel's real position: " + sub.encode());
        assertFalse(sub.getString("epoch").startsWith("~"), sub.encode());
        assertEquals(1, a.event(channel, "cmd").getInteger("data"));
        assertEquals(2, a.event(channel, "cmd").getInteger("data"));
        b.result("publish", cmd(channel, 3));
        assertEquals(3, a.event(channel, "cmd").getInteger("data"));
        assertEquals(List.of(1, 2, 3), personalData(a, channel));
      }
    }
  }

  @Test
  void recoveryFromALazyPositionLeavesOutWhatWasStoredBeforeIt() {
    String agent = subject("lazy-old");
    String channel = "user:" + agent;
    String token = s.token(agent, TestServer.grants());
    try (WsClient b = s.connect(s.token("lazy-boss", TestServer.grants(channel, "publish")))) {
      b.result("publish", cmd(channel, 1));
      pastTheSkew(System.currentTimeMillis());
      JsonObject position;
      try (WsClient a = s.connect(token)) {
        position = position(a);
      }
      b.result("publish", cmd(channel, 2));
      try (WsClient a = s.open(null)) {
        JsonObject r = a.request("connect", new JsonObject().put("token", token).put("recover",
            new JsonObject().put("offset", position.getLong("offset")).put("epoch", position.getString("epoch"))));
        JsonObject sub = r.getJsonObject("result").getJsonArray("subscriptions").getJsonObject(0);
        assertTrue(sub.getBoolean("recovered"), r.encode());
        assertEquals(2, a.event(channel, "cmd").getInteger("data"));
        b.result("publish", cmd(channel, 3));
        assertEquals(3, a.event(channel, "cmd").getInteger("data"));
        assertEquals(List.of(2, 3), personalData(a, channel));
      }
    }
  }
}
