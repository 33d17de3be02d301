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
