package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Presence: join/leave on subscribe/unsubscribe/disconnect, state, queries, and timeout of unrefreshed members. */
class PresenceTest {
  private final TestServer s = SharedServer.get();

  @Test
  void joinLeaveStateAndQuery() {
    String watcherToken = s.token("watcher", TestServer.allGrants());
    String memberToken = s.token(new JsonObject().put("subject", "member").put("grants", TestServer.allGrants())
        .put("info", new JsonObject().put("name", "Milo")));
    try (WsClient watcher = s.connect(watcherToken)) {
      watcher.subscribe("chat:p1");
      WsClient member = s.connect(memberToken);
      member.subscribe("chat:p1");
      JsonObject join = watcher.take("join of member", f -> "presence.join".equals(f.getString("event"))
          && "member".equals(f.getJsonObject("data").getString("subject")));
      assertEquals("Milo", join.getJsonObject("data").getJsonObject("info").getString("name"));

      JsonArray members = watcher.result("presence", new JsonObject().put("channel", "chat:p1")).getJsonArray("members");
      assertEquals(2, members.size());

      member.result("presence.setState", new JsonObject().put("channel", "chat:p1").put("state", new JsonObject().put("status", "busy")));
      JsonObject state = watcher.event("chat:p1", "presence.state");
      assertEquals("busy", state.getJsonObject("data").getJsonObject("state").getString("status"));
      JsonObject q = watcher.result("presence", new JsonObject().put("channel", "chat:p1"));
      assertTrue(q.encode().contains("busy"));

      member.unsubscribe("chat:p1");
      watcher.take("leave of member", f -> "presence.leave".equals(f.getString("event"))
          && "member".equals(f.getJsonObject("data").getString("subject")));

      member.subscribe("chat:p1");
      watcher.take("second join", f -> "presence.join".equals(f.getString("event")) && "member".equals(f.getJsonObject("data").getString("subject")));
      member.close();
      watcher.take("leave on disconnect", f -> "presence.leave".equals(f.getString("event"))
          && "member".equals(f.getJsonObject("data").getString("subject")));
      assertEquals(1, watcher.result("presence", new JsonObject().put("channel", "chat:p1")).getJsonArray("members").size());
    }
  }

  @Test
  void setStateNeedsASubscriptionAndPresenceNeedsItsGrant() {
    try (WsClient c = s.connect(s.token("nostate", TestServer.grants("chat:*", "subscribe")))) {
      JsonObject r = c.request("presence.setState", new JsonObject().put("channel", "chat:p2").put("state", new JsonObject()));
      assertEquals("not_subscribed", r.getJsonObject("error").getString("code"));
      JsonObject q = c.request("presence", new JsonObject().put("channel", "chat:p2"));
      assertEquals("permission_denied", q.getJsonObject("error").getString("code"));
    }
  }

  @Test
  void namespaceWithoutJoinLeaveSendsNoJoinEvents() {
    String token = s.token("quiet-one", TestServer.allGrants());
    try (WsClient watcher = s.connect(token); WsClient other = s.connect(token)) {
      watcher.subscribe("quiet:q1", "chat:marker-q1");
      other.subscribe("quiet:q1", "chat:marker-q1");
      // the chat join proves the quiet one would have arrived by now
      watcher.take("marker join", f -> "chat:marker-q1".equals(f.getString("channel")) && "presence.join".equals(f.getString("event")));
      assertTrue(watcher.seen(f -> "quiet:q1".equals(f.getString("channel")) && "presence.join".equals(f.getString("event"))).isEmpty());
      // but presence itself is kept
      assertEquals(2, watcher.result("presence", new JsonObject().put("channel", "quiet:q1")).getJsonArray("members").size());
    }
  }

  /**
   * A member whose gateway stops refreshing it (as when that gateway's JVM dies) times out: subscribers get
   * presence.timeout. The dead gateway is played by a join sent on the bus with a node nobody refreshes.
   */
  @Test
  void unrefreshedMemberTimesOut() {
    try (WsClient watcher = s.connect(s.token("timeout-watcher", TestServer.allGrants()))) {
      watcher.subscribe("chat:t1");
      s.sb.vertx().eventBus().send(Addresses.PRESENCE_JOIN, new JsonObject().put("client", "ghost-client").put("subject", "ghost")
          .put("node", "dead-node").put("info", new JsonObject()).put("channels", new JsonArray().add("chat:t1")));
      watcher.take("ghost join", f -> "presence.join".equals(f.getString("event")) && "ghost".equals(f.getJsonObject("data").getString("subject")));
      JsonObject timeout = watcher.take("ghost timeout", f -> "presence.timeout".equals(f.getString("event")));
      assertEquals("ghost", timeout.getJsonObject("data").getString("subject"));
      // the live watcher itself is refreshed by its gateway and stays
      JsonArray members = watcher.result("presence", new JsonObject().put("channel", "chat:t1")).getJsonArray("members");
      assertEquals(1, members.size());
      assertEquals("timeout-watcher", members.getJsonObject(0).getString("subject"));
    }
  }
}
