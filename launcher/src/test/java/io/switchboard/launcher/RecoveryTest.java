package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Catching up after a disconnect: everything missed, in order, before anything live. */
class RecoveryTest {
  private final TestServer s = SharedServer.get();

  private static JsonObject pubParams(String channel, int n) {
    return new JsonObject().put("channel", channel).put("event", "n").put("data", n);
  }

  @Test
  void recoversMissedPublicationsInOrderBeforeLiveOnes() {
    String token = s.token("rec1", TestServer.allGrants());
    String epoch;
    long last;
    try (WsClient pub = s.connect(token)) {
      try (WsClient c = s.connect(token)) {
        c.subscribe("task:rec");
        for (int i = 1; i <= 3; i++) pub.result("publish", pubParams("task:rec", i));
        JsonObject third = null;
        for (int i = 1; i <= 3; i++) third = c.event("task:rec", "n");
        epoch = third.getString("epoch");
        last = third.getLong("offset");
      }
      // missed while away
      for (int i = 4; i <= 6; i++) pub.result("publish", pubParams("task:rec", i));

      try (WsClient c = s.connect(token)) {
        String id = c.nextId();
        c.send(new JsonObject().put("type", "subscribe").put("id", id).put("channels", new io.vertx.core.json.JsonArray()
            .add(new JsonObject().put("channel", "task:rec").put("recover", new JsonObject().put("offset", last).put("epoch", epoch)))));
        // publish live ones right away: they race with the recovery and must still come after it, in order
        for (int i = 7; i <= 9; i++) pub.result("publish", pubParams("task:rec", i));
        JsonObject ans = c.response(id).getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        assertTrue(ans.getBoolean("recovered"), ans.encode());
        List<Integer> data = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        for (int i = 4; i <= 9; i++) {
          JsonObject ev = c.event("task:rec", "n");
          data.add(ev.getInteger("data"));
          offsets.add(ev.getLong("offset"));
        }
        assertEquals(List.of(4, 5, 6, 7, 8, 9), data);
        assertEquals(List.of(4L, 5L, 6L, 7L, 8L, 9L), offsets);
        // the subscribe answer came before every recovered event
        List<JsonObject> frames = c.received();
        int answerAt = indexOf(frames, f -> id.equals(f.getString("id")));
        int firstEvent = indexOf(frames, f -> "task:rec".equals(f.getString("channel")) && "n".equals(f.getString("event")));
        assertTrue(answerAt < firstEvent, "answer before events");
        // nothing twice
        assertEquals(6, c.seen(f -> "task:rec".equals(f.getString("channel")) && "n".equals(f.getString("event"))).size());
      }
    }
  }

  @Test
  void wrongEpochAnswersRecoveredFalse() {
    String token = s.token("rec2", TestServer.allGrants());
    try (WsClient pub = s.connect(token)) {
      pub.result("publish", pubParams("task:rec2", 1));
      try (WsClient c = s.connect(token)) {
        JsonObject ans = c.subscribe(new JsonObject().put("channel", "task:rec2").put("recover", new JsonObject().put("offset", 0).put("epoch", "not-the-epoch")))
            .getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        assertTrue(ans.getBoolean("ok"));
        assertFalse(ans.getBoolean("recovered"));
        assertEquals(1L, ans.getLong("offset"));
        pub.result("publish", pubParams("task:rec2", 2));
        // the next event is the live one: nothing was replayed
        assertEquals(2, c.event("task:rec2", "n").getInteger("data"));
      }
    }
  }

  @Test
  void recoveryOffInNamespaceAnswersRecoveredFalse() {
    String token = s.token("rec3", TestServer.allGrants());
    try (WsClient pub = s.connect(token)) {
      JsonObject first = pub.result("publish", pubParams("norecover:x", 1));
      pub.result("publish", pubParams("norecover:x", 2));
      try (WsClient c = s.connect(token)) {
        JsonObject ans = c.subscribe(new JsonObject().put("channel", "norecover:x")
                .put("recover", new JsonObject().put("offset", first.getLong("offset")).put("epoch", first.getString("epoch"))))
            .getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        assertFalse(ans.getBoolean("recovered"));
      }
    }
  }

  @Test
  void personalChannelRecoversAtConnect() {
    String agent = s.token("rec-agent", TestServer.grants("user:rec-agent", "subscribe"));
    String boss = s.token("rec-boss", TestServer.grants("user:rec-agent", "publish"));
    JsonObject position;
    try (WsClient a = s.connect(agent)) {
      position = a.connectResult.getJsonArray("subscriptions").getJsonObject(0);
    }
    try (WsClient b = s.connect(boss)) {
      b.result("publish", new JsonObject().put("channel", "user:rec-agent").put("event", "cmd").put("data", "while you were away"));
    }
    try (WsClient a = s.open(null)) {
      JsonObject r = a.request("connect", new JsonObject().put("token", agent)
          .put("recover", new JsonObject().put("offset", position.getLong("offset")).put("epoch", position.getString("epoch"))));
      assertTrue(r.getJsonObject("result").getJsonArray("subscriptions").getJsonObject(0).getBoolean("recovered"), r.encode());
      assertEquals("while you were away", a.event("user:rec-agent", "cmd").getString("data"));
    }
  }

  private static int indexOf(List<JsonObject> frames, java.util.function.Predicate<JsonObject> p) {
    for (int i = 0; i < frames.size(); i++) if (p.test(frames.get(i))) return i;
    return -1;
  }
}
