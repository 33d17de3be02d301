package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The agent flow of the issue, end to end over real HTTP and real WebSockets. */
class AgentFlowTest {
  private final TestServer s = SharedServer.get();

  @Test
  @DisplayName("key with a policy → token → subscribe cmd with presence → user publishes requiresAck → agent receives, pending, ack")
  void agentFlow() {
    // operator creates an agent key whose policy is a template on {sub}
    JsonObject keyReq = new JsonObject()
        .put("subject", "a1")
        .put("sourceType", "agent")
        .put("channels", new JsonObject().put("cmd", "agent:{sub}.cmd").put("evt", "agent:{sub}.evt"))
        .put("grants", new JsonArray()
            .add(new JsonObject().put("channel", "agent:{sub}.cmd").put("capabilities", new JsonArray().add("subscribe").add("presence").add("history")))
            .add(new JsonObject().put("channel", "agent:{sub}.evt").put("capabilities", new JsonArray().add("publish"))));
    TestServer.Reply key = s.httpCall(HttpMethod.POST, "/v1/keys", TestServer.ADMIN_KEY, keyReq.encode());
    assertEquals(201, key.status(), key.raw());
    String apiKey = key.body().getString("key");

    // the agent trades its key for a token for exactly its channels
    TestServer.Reply tok = s.httpCall(HttpMethod.POST, "/v1/tokens", apiKey, "{}");
    assertTrue(tok.status() == 200 || tok.status() == 201, tok.raw());
    assertEquals("a1", tok.body().getString("subject"));
    assertEquals("agent:a1.cmd", tok.body().getJsonObject("channels").getString("cmd"));
    String agentToken = tok.body().getString("token");

    try (WsClient agent = s.connect(agentToken)) {
      assertEquals("a1", agent.connectResult.getString("subject"));
      // the personal channel is subscribed at connect
      assertEquals("user:a1", agent.connectResult.getJsonArray("subscriptions").getJsonObject(0).getString("channel"));
      JsonObject sub = agent.subscribe("agent:a1.cmd");
      assertTrue(sub.getJsonObject("result").getJsonArray("channels").getJsonObject(0).getBoolean("ok"), sub.encode());

      String userToken = s.token("u7", TestServer.grants("agent:a1.cmd", "publish,presence"));
      try (WsClient user = s.connect(userToken)) {
        // the user sees the agent present
        JsonObject presence = user.result("presence", new JsonObject().put("channel", "agent:a1.cmd"));
        assertEquals("a1", presence.getJsonArray("members").getJsonObject(0).getString("subject"));

        JsonObject pub = user.result("publish", new JsonObject()
            .put("channel", "agent:a1.cmd").put("event", "user_message").put("data", new JsonObject().put("content", "hello"))
            .put("priority", "high").put("tags", new JsonArray().add("t1")).put("ttl", 3600)
            .put("requiresAck", true).put("correlationId", "m-17")
            // a client cannot forge its source: this is ignored
            .put("source", new JsonObject().put("type", "admin").put("id", "root")));
        assertNotNull(pub.getString("id"));
        assertEquals(1L, pub.getLong("offset"));

        JsonObject ev = agent.event("agent:a1.cmd", "user_message");
        assertEquals(pub.getString("id"), ev.getString("id"));
        assertEquals(new JsonObject().put("type", "user").put("id", "u7"), ev.getJsonObject("source"));
        assertEquals("high", ev.getString("priority"));
        assertEquals(new JsonArray().add("t1"), ev.getJsonArray("tags"));
        assertEquals(3600, ev.getInteger("ttl"));
        assertTrue(ev.getBoolean("requiresAck"));
        assertEquals("m-17", ev.getString("correlationId"));
        assertEquals("hello", ev.getJsonObject("data").getString("content"));
        assertEquals(pub.getString("epoch"), ev.getString("epoch"));

        JsonObject pending = agent.result("pending", new JsonObject().put("channel", "agent:a1.cmd"));
        assertEquals(1, pending.getJsonArray("publications").size());
        assertEquals(pub.getString("id"), pending.getJsonArray("publications").getJsonObject(0).getString("id"));

        // the user may not ack: it is not a subscriber
        JsonObject userAck = user.request("ack", new JsonObject().put("channel", "agent:a1.cmd").put("ids", new JsonArray().add(pub.getString("id"))));
        assertEquals("not_subscribed", userAck.getJsonObject("error").getString("code"));

        JsonObject acked = agent.result("ack", new JsonObject().put("channel", "agent:a1.cmd").put("ids", new JsonArray().add(pub.getString("id"))));
        assertEquals(new JsonArray().add(pub.getString("id")), acked.getJsonArray("acked"));
        JsonObject ackEvent = agent.event("agent:a1.cmd", "message.acked");
        assertEquals(pub.getString("id"), ackEvent.getJsonObject("data").getString("id"));
        assertEquals("a1", ackEvent.getJsonObject("data").getString("by"));

        assertTrue(agent.result("pending", new JsonObject().put("channel", "agent:a1.cmd")).getJsonArray("publications").isEmpty());

        // the agent reports back on its evt channel, but may not publish on cmd
        JsonObject evt = agent.request("publish", new JsonObject().put("channel", "agent:a1.evt").put("event", "agent_message").put("data", "done"));
        assertFalse(evt.containsKey("error"), evt.encode());
        JsonObject denied = agent.request("publish", new JsonObject().put("channel", "agent:a1.cmd").put("event", "x").put("data", 1));
        assertEquals("permission_denied", denied.getJsonObject("error").getString("code"));
      }
    }
  }

  @Test
  void personalChannelReceivesWhatOthersPublish() {
    String agentToken = s.token("p9", new JsonArray());
    try (WsClient agent = s.connect(agentToken)) {
      String sender = s.token("boss", TestServer.grants("user:p9", "publish"));
      try (WsClient boss = s.connect(sender)) {
        boss.result("publish", new JsonObject().put("channel", "user:p9").put("event", "cmd").put("data", new JsonObject().put("run", "tests")));
      }
      JsonObject ev = agent.event("user:p9", "cmd");
      assertEquals("tests", ev.getJsonObject("data").getString("run"));
      assertEquals("boss", ev.getJsonObject("source").getString("id"));
    }
  }
}
