package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Fanout;
import io.switchboard.common.Publication;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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

  /**
   * A gap seen while Redis is down: the gateway holds the later publication and asks the store again at a steady
   * pace (not in a hot loop for the whole outage), then fills the gap once Redis is back — nothing lost, in order.
   */
  @Test
  void aGapDuringAnOutageIsFilledWhenRedisReturnsWithoutSpinning() {
    try (TestServer s = server(); WsClient sub = s.connect(s.token("gap-outage", TestServer.allGrants()));
         WsClient pub = s.connect(s.token("gap-outage-pub", TestServer.allGrants()))) {
      String ch = "task:gap-outage";
      sub.subscribe(ch);
      pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 1));
      assertEquals(1, sub.event(ch, "n").getInteger("data"));
      Fanout fanout = Fanout.of(s.sb.vertx());
      String node = fanout.nodesOf(ch).iterator().next();
      // the bus "loses" 2 and 3 (nobody is routed to), then 3 arrives late while Redis is down: a gap after 1
      fanout.removeInterest(node, ch);
      pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 2));
      pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 3));
      fanout.addInterest(node, ch);
      Publication p3 = Publication.fromJson(pub.result("history", new JsonObject().put("channel", ch))
          .getJsonArray("publications").getJsonObject(2));
      List<Long> asks = new CopyOnWriteArrayList<>();
      s.sb.vertx().eventBus().addOutboundInterceptor(dc -> {
        if (Addresses.STORE_POSITION.equals(dc.message().address()) && dc.message().body() instanceof JsonObject b
            && b.encode().contains("\"" + ch + "\"")) {
          asks.add(System.nanoTime());
        }
        dc.next();
      });
      redis.stop();
      try {
        s.sb.vertx().eventBus().send(Addresses.gatewayNode(node), p3);
        Await.until("the backfill asked again and again", () -> asks.size() >= 4);
        long ms = (asks.get(3) - asks.get(0)) / 1_000_000;
        assertTrue(ms >= 3 * 400, "asked 4 times in " + ms + " ms: retries are paced, not a hot loop");
        assertTrue(sub.seen(f -> ch.equals(f.getString("channel")) && "n".equals(f.getString("event"))).size() == 1,
            "3 is held while 2 cannot be read");
      } finally {
        redis.start();
      }
      assertEquals(2, sub.event(ch, "n").getInteger("data"));
      assertEquals(3, sub.event(ch, "n").getInteger("data"));
      pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 4));
      assertEquals(4, sub.event(ch, "n").getInteger("data"));
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
