package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fan-out across a gateway's event loops (the test server runs two): the node's fan-out consumer delivers on its
 * own loop in place and hands each publication to the other loop, and every subscriber, whichever loop holds its
 * connection, gets a burst of publications complete and in offset order.
 */
class FanoutLoopsTest {
  private final TestServer s = SharedServer.get();

  @Test
  void aBurstReachesSubscribersOnEveryLoopInOffsetOrder() {
    String token = s.token("fanout-loops", TestServer.allGrants());
    String channel = "task:fanout-loops";
    int subscribers = 6; // the acceptor spreads connections over both loops
    int burst = 150; // under the default publish burst (200) of one session
    List<WsClient> subs = new ArrayList<>();
    try (WsClient pub = s.connect(token)) {
      long base = -1;
      for (int i = 0; i < subscribers; i++) {
        WsClient c = s.connect(token);
        subs.add(c);
        long offset = c.subscribe(channel).getJsonObject("result").getJsonArray("channels").getJsonObject(0).getLong("offset");
        if (base < 0) base = offset;
        assertEquals(base, offset, "no publication before the burst");
      }
      // pipelined: the next publish is sent before the previous one is answered
      List<String> ids = new ArrayList<>();
      for (int n = 1; n <= burst; n++) {
        String id = pub.nextId();
        ids.add(id);
        pub.send(new JsonObject().put("type", "request").put("id", id).put("method", "publish")
            .put("params", new JsonObject().put("channel", channel).put("event", "n").put("data", n)));
      }
      for (String id : ids) assertEquals(null, pub.response(id).getValue("error"), "publish " + id);
      for (int i = 0; i < subscribers; i++) {
        for (int n = 1; n <= burst; n++) {
          JsonObject e = subs.get(i).event(channel, "n");
          assertEquals(base + n, e.getLong("offset"), "subscriber " + i + ", publication " + n);
          assertEquals(n, e.getInteger("data"), "subscriber " + i + ", publication " + n);
        }
      }
    } finally {
      subs.forEach(WsClient::close);
    }
  }

  /**
   * The fan-out consumer hands a publication only to the loops that have its channel (ChannelHub#has). A loop that
   * gets its first subscriber of the channel while publications flow must still get every publication after that
   * subscriber's position: subscribers join one by one, each while a chunk of pipelined publishes is under way.
   */
  @Test
  void subscribersJoiningWhilePublicationsFlowMissNoneOnEitherLoop() {
    String token = s.token("fanout-loops-join", TestServer.allGrants());
    String channel = "task:fanout-loops-join";
    int subscribers = 6; // the acceptor spreads connections over both loops: each loop's first one is among them
    int chunk = 25; // 150 publishes in all, under the default publish burst (200) of one session
    List<WsClient> subs = new ArrayList<>();
    List<Long> from = new ArrayList<>();
    try (WsClient pub = s.connect(token)) {
      List<String> ids = new ArrayList<>();
      int n = 0;
      for (int i = 0; i < subscribers; i++) {
        for (int k = 0; k < chunk; k++) {
          String id = pub.nextId();
          ids.add(id);
          n++;
          pub.send(new JsonObject().put("type", "request").put("id", id).put("method", "publish")
              .put("params", new JsonObject().put("channel", channel).put("event", "n").put("data", n)));
        }
        WsClient c = s.connect(token); // joins while the chunk just sent is being stored and fanned out
        subs.add(c);
        from.add(c.subscribe(channel).getJsonObject("result").getJsonArray("channels").getJsonObject(0).getLong("offset"));
      }
      long last = -1;
      for (String id : ids) {
        JsonObject r = pub.response(id);
        assertEquals(null, r.getValue("error"), "publish " + id);
        last = Math.max(last, r.getJsonObject("result").getLong("offset"));
      }
      for (int i = 0; i < subscribers; i++) {
        for (long offset = from.get(i) + 1; offset <= last; offset++) {
          JsonObject e = subs.get(i).event(channel, "n");
          assertEquals(offset, e.getLong("offset"), "subscriber " + i + " (joined at offset " + from.get(i) + ")");
        }
      }
    } finally {
      subs.forEach(WsClient::close);
    }
  }

  @Test
  void everyServiceRunsOnTheGatewaysEventLoops() {
    var vertx = (io.vertx.core.internal.VertxInternal) s.sb.vertx();
    java.util.Set<Object> loops = new java.util.HashSet<>();
    java.util.List<String> layout = new ArrayList<>();
    for (var d : vertx.deploymentManager().deployments()) {
      for (var ctx : d.deployment().contexts()) {
        var loop = ((io.vertx.core.internal.ContextInternal) ctx).nettyEventLoop();
        loops.add(loop);
        d.deployment().instances().forEach(i -> layout.add(i.getClass().getSimpleName() + "@" + System.identityHashCode(loop)));
      }
    }
    // the test server runs 2 gateway event loops: the store, presence, auth and operations share them
    assertEquals(2, loops.size(), "event loops in use: " + layout);
  }

  @Test
  void theEventLoopPoolIsTheGatewaysEventLoops() {
    JsonObject two = new JsonObject().put("gateway", new JsonObject().put("instances", 2));
    JsonObject five = new JsonObject().put("gateway", new JsonObject().put("instances", 5));
    JsonObject perCore = new JsonObject().put("gateway", new JsonObject().put("instances", 0));
    assertEquals(2, Switchboard.eventLoops(two));
    assertEquals(5, Switchboard.eventLoops(five));
    assertEquals(Math.max(2, Runtime.getRuntime().availableProcessors()), Switchboard.eventLoops(perCore));
    JsonObject one = new JsonObject().put("gateway", new JsonObject().put("instances", 1));
    assertEquals(2, Switchboard.eventLoops(one), "never a single thread for the whole JVM");
  }
}
