package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis engine as an operator meets it: Redis dies and comes back (the server answers {@code unavailable}, turns
 * not-ready, then recovers by itself), and the whole server restarts on the same Redis without losing history,
 * offsets, epochs or pending acks.
 */
class RedisEngineTest {
  private static TestRedis redis;

  @BeforeAll
  static void startRedis() {
    redis = TestRedis.dedicatedPersistent();
  }

  @AfterAll
  static void stopRedis() {
    redis.stop();
  }

  private static TestServer server() {
    return TestServer.start(SharedServer.config()
        .put("engine", "redis")
        .put("redis", new JsonObject().put("url", redis.url())));
  }

  private static int ready(TestServer s) {
    return s.on.await(() -> s.http.request(new RequestOptions().setHost("127.0.0.1").setPort(s.opsPort).setURI("/health/ready"))
        .compose(r -> r.send()).map(r -> r.statusCode()));
  }

  @Test
  void redisOutageIsUnavailableThenRecoversByItself() {
    try (TestServer s = server(); WsClient c = s.connect(s.token("outage", TestServer.allGrants()))) {
      JsonObject before = c.result("publish", new JsonObject().put("channel", "task:outage").put("event", "e").put("data", 1));
      assertEquals(200, ready(s));
      redis.stop();
      try {
        JsonObject refused = c.request("publish", new JsonObject().put("channel", "task:outage").put("event", "e").put("data", 2));
        assertEquals("unavailable", refused.getJsonObject("error").getString("code"), refused.encode());
        JsonObject sub = c.subscribe("task:outage").getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        assertEquals("unavailable", sub.getJsonObject("error").getString("code"));
        assertEquals("unavailable", c.request("history", new JsonObject().put("channel", "task:outage")).getJsonObject("error").getString("code"));
        Await.until("not ready", () -> ready(s) == 503);
        assertTrue(c.isOpen(), "the connection survives a storage outage");
      } finally {
        redis.start();
      }
      Await.until("ready again", Duration.ofSeconds(30), () -> ready(s) == 200);
      JsonObject[] after = new JsonObject[1];
      Await.until("publish accepted again", Duration.ofSeconds(30), () -> {
        after[0] = c.request("publish", new JsonObject().put("channel", "task:outage").put("event", "e").put("data", 3));
        return after[0].containsKey("result");
      });
      // nothing half-written: the refused publish left no offset behind
      assertEquals(before.getLong("offset") + 1, after[0].getJsonObject("result").getLong("offset"));
      JsonObject h = c.result("history", new JsonObject().put("channel", "task:outage"));
      assertEquals(2, h.getJsonArray("publications").size());
    }
  }

  @Test
  void restartOnTheSameRedisKeepsHistoryOffsetsEpochsAndPendingAcks() {
    String epoch;
    long seen;
    try (TestServer first = server()) {
      try (WsClient agent = first.connect(first.token("persist-agent", TestServer.allGrants()))) {
        agent.subscribe("agent:persist");
        try (WsClient boss = first.connect(first.token("persist-boss", TestServer.allGrants()))) {
          boss.result("publish", new JsonObject().put("channel", "agent:persist").put("event", "cmd").put("data", 1).put("requiresAck", true));
          JsonObject ev = agent.event("agent:persist", "cmd");
          epoch = ev.getString("epoch");
          seen = ev.getLong("offset");
          agent.close();
          boss.result("publish", new JsonObject().put("channel", "agent:persist").put("event", "cmd").put("data", 2).put("requiresAck", true));
          boss.result("publish", new JsonObject().put("channel", "agent:persist").put("event", "cmd").put("data", 3));
        }
      }
    }
    try (TestServer second = server(); WsClient agent = second.connect(second.token("persist-agent", TestServer.allGrants()))) {
      JsonObject pending = agent.result("pending", new JsonObject().put("channel", "agent:persist"));
      assertEquals(2, pending.getJsonArray("publications").size(), "both unacked commands still pending");
      JsonObject ans = agent.subscribe(new JsonObject().put("channel", "agent:persist")
              .put("recover", new JsonObject().put("offset", seen).put("epoch", epoch)))
          .getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertTrue(ans.getBoolean("recovered"), ans.encode());
      assertEquals(epoch, ans.getString("epoch"));
      assertEquals(2, agent.event("agent:persist", "cmd").getInteger("data"));
      assertEquals(3, agent.event("agent:persist", "cmd").getInteger("data"));
      JsonObject next = agent.result("publish", new JsonObject().put("channel", "agent:persist").put("event", "report").put("data", 4));
      assertEquals(seen + 3, next.getLong("offset"));
      assertEquals(epoch, next.getString("epoch"));
      JsonArray acked = agent.result("ack", new JsonObject().put("channel", "agent:persist")
          .put("ids", new JsonArray().add(pending.getJsonArray("publications").getJsonObject(0).getString("id")))).getJsonArray("acked");
      assertEquals(1, acked.size());
    }
  }
}
