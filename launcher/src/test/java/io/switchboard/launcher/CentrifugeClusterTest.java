package io.switchboard.launcher;

import static io.switchboard.launcher.CentrifugeTest.call;
import static io.switchboard.launcher.CentrifugeTest.publication;
import static io.switchboard.launcher.CentrifugeTest.sha256;
import static io.switchboard.launcher.CentrifugeTest.subscribe;
import static io.switchboard.launcher.CentrifugeTest.subscribed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.TestRedis;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * centrifuge-js clients on two clustered gateway JVMs (Redis engine): one stream, one order, fossil deltas exact on
 * either side, and a position from one gateway recovers on the other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CentrifugeClusterTest {
  private TestRedis redis;
  private ClusterProcesses cluster;
  private ClusterProcesses.Node core;
  private ClusterProcesses.Node gatewayA;
  private ClusterProcesses.Node gatewayB;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startCluster() throws Exception {
    redis = TestRedis.dedicated();
    cluster = new ClusterProcesses(redis.url(), Map.of(
        "SWITCHBOARD_GATEWAY_PUBLISH_RATE_PER_SECOND", "100000",
        "SWITCHBOARD_GATEWAY_PUBLISH_BURST", "100000"));
    core = cluster.start("core", "store,presence,auth").get(0);
    List<ClusterProcesses.Node> gws = cluster.start("gateway-a", "gateway", "gateway-b", "gateway");
    gatewayA = gws.get(0);
    gatewayB = gws.get(1);
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) cluster.close();
    if (redis != null) redis.stop();
  }

  private String token(String subject) throws Exception {
    JsonObject body = new JsonObject().put("subject", subject).put("grants", TestServer.allGrants());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + core.authPort + "/v1/tokens"))
        .header("x-api-key", ClusterProcesses.ADMIN_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body()).getString("token");
  }

  private NodeScript connected(ClusterProcesses.Node gateway, String subject) throws Exception {
    NodeScript n = CentrifugeTest.driver();
    n.send(new JsonObject().put("op", "connect").put("url", "ws://127.0.0.1:" + gateway.wsPort + "/connection/websocket")
        .put("token", token(subject)));
    n.event("connected");
    return n;
  }

  @Test
  void oneStreamAcrossGatewaysWithDeltasAndCrossGatewayRecovery() throws Exception {
    int versions = 200;
    try (NodeScript deltaA = connected(gatewayA, "cc-delta-a");
         NodeScript plainB = connected(gatewayB, "cc-plain-b");
         NodeScript publisherB = connected(gatewayB, "cc-publisher")) {
      subscribe(deltaA, "quest:cc1", new JsonObject().put("delta", "fossil"), "digest");
      subscribed(deltaA, "quest:cc1");
      subscribe(plainB, "quest:cc1", null, "digest");
      subscribed(plainB, "quest:cc1");
      StringBuilder content = new StringBuilder();
      List<String> expected = new ArrayList<>();
      for (int i = 1; i <= versions; i++) {
        content.append(" token").append(i);
        JsonObject data = new JsonObject().put("content", content.toString()).put("seq", i);
        expected.add(sha256(data.encode()));
        JsonObject r = call(publisherB, new JsonObject().put("op", "publish").put("channel", "quest:cc1").put("data", data));
        assertEquals("result", r.getString("event"), r.encode());
      }
      long lastOffset = 0;
      for (int i = 1; i <= versions; i++) {
        JsonObject a = publication(deltaA, "quest:cc1");
        JsonObject b = publication(plainB, "quest:cc1");
        assertEquals(i, a.getInteger("seq"), "gateway A in order");
        assertEquals(i, b.getInteger("seq"), "gateway B in order");
        assertEquals(expected.get(i - 1), a.getString("digest"), "version " + i + " exact through deltas on A");
        assertEquals(expected.get(i - 1), b.getString("digest"));
        assertEquals(a.getLong("offset"), b.getLong("offset"));
        lastOffset = b.getLong("offset");
      }
      deltaA.send(new JsonObject().put("op", "stats").put("channel", "quest:cc1"));
      JsonObject st = deltaA.event("stats").getJsonObject("delta");
      assertTrue(st.getInteger("numDeltaPayloads") >= versions - 2, st.encode());

      // a client that read up to some offset on gateway B recovers the rest on gateway A
      JsonObject history = call(plainB, new JsonObject().put("op", "history").put("channel", "quest:cc1")).getJsonObject("result");
      String epoch = history.getString("epoch");
      assertFalse(epoch.isEmpty());
      assertEquals(lastOffset, history.getLong("offset"));
      try (NodeScript late = connected(gatewayA, "cc-late")) {
        subscribe(late, "quest:cc1", new JsonObject().put("since", new JsonObject().put("offset", lastOffset - 5).put("epoch", epoch)), "digest");
        JsonObject sub = subscribed(late, "quest:cc1");
        assertTrue(sub.getBoolean("recovered"), sub.encode());
        for (int i = versions - 4; i <= versions; i++) {
          JsonObject p = publication(late, "quest:cc1");
          assertEquals(i, p.getInteger("seq"));
          assertEquals(expected.get(i - 1), p.getString("digest"));
        }
      }
    }
  }
}
