package io.switchboard.launcher;

import static io.switchboard.launcher.GatewayHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The server API and tickets on a cluster of real JVMs (store+presence+auth, two gateways): a backend calls gateway
 * B about a user connected to gateway A, and a ticket minted on A opens a stream on B exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpClusterTest {
  private TestRedis redis;
  private ClusterProcesses cluster;
  private ClusterProcesses.Node gatewayA;
  private ClusterProcesses.Node gatewayB;
  private Vertx vertx;
  private OnContext on;
  private WebSocketClient ws;
  private GatewayHttp a;
  private GatewayHttp b;

  @BeforeAll
  void startCluster() throws Exception {
    redis = TestRedis.dedicated();
    cluster = new ClusterProcesses(redis.url(), Map.of());
    ClusterProcesses.Node core = cluster.start("http-core", "store,presence,auth").get(0);
    List<ClusterProcesses.Node> gws = cluster.start("http-gateway-a", "gateway", "http-gateway-b", "gateway");
    gatewayA = gws.get(0);
    gatewayB = gws.get(1);
    vertx = Vertx.vertx();
    on = new OnContext(vertx);
    ws = vertx.createWebSocketClient(new WebSocketClientOptions());
    var http = vertx.createHttpClient();
    a = new GatewayHttp(on, http, gatewayA.wsPort);
    b = new GatewayHttp(on, http, gatewayB.wsPort);
    authPort = core.authPort;
  }

  private int authPort;

  @AfterAll
  void stop() {
    if (cluster != null) cluster.close();
    if (vertx != null) Await.result(vertx.close());
    if (redis != null) redis.stop();
  }

  private String token(String subject) {
    GatewayHttp auth = new GatewayHttp(on, vertx.createHttpClient(), authPort);
    GatewayHttp.Reply r = auth.call(HttpMethod.POST, "/v1/tokens", Map.of("x-api-key", ClusterProcesses.ADMIN_KEY),
        new JsonObject().put("subject", subject).put("grants", TestServer.allGrants()).encode());
    return ok(r).getString("token");
  }

  private WsClient connect(ClusterProcesses.Node gateway, String token) {
    io.vertx.core.http.ClientWebSocket socket = ws.webSocket();
    WsClient c = new WsClient(socket, on);
    on.await(() -> socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gateway.wsPort).setURI("/ws")));
    JsonObject r = c.request("connect", new JsonObject().put("token", token));
    if (r.containsKey("error")) throw new AssertionError("connect failed: " + r.encode());
    return c;
  }

  @Test
  void serverApiOnOneGatewayReachesSessionsOnTheOther() {
    try (WsClient u = connect(gatewayA, token("cluster-user"))) {
      u.subscribe("task:c1");
      String key = ClusterProcesses.ADMIN_KEY;
      JsonObject r = ok(b.api("publish", key, new JsonObject().put("channel", "task:c1").put("event", "from-b")));
      assertEquals("from-b", u.event("task:c1", "from-b").getString("event"));
      assertEquals(r.getString("id"), u.seen(f -> "from-b".equals(f.getString("event"))).get(0).getString("id"));

      ok(b.api("subscribe", key, new JsonObject().put("user", "cluster-user").put("channel", "task:c2")));
      assertEquals("task:c2", u.take("server-side subscribe", f -> "subscribed".equals(f.getString("type"))).getString("channel"));
      ok(b.api("publish", key, new JsonObject().put("channel", "task:c2").put("event", "second")));
      u.event("task:c2", "second");

      JsonObject channels = ok(b.api("channels", key, new JsonObject().put("prefix", "task:c")));
      assertEquals(1, channels.getJsonObject("channels").getJsonObject("task:c1").getInteger("subscribers"));
      assertEquals(1, channels.getJsonObject("channels").getJsonObject("task:c2").getInteger("subscribers"));
      JsonObject info = ok(b.api("info", key, new JsonObject()));
      assertEquals(2, info.getJsonArray("nodes").size(), info.encode());
      assertTrue(info.getInteger("connections") >= 1);

      JsonObject batch = ok(b.api("batch", key, new JsonObject().put("commands", new JsonArray()
          .add(new JsonObject().put("method", "presence_stats").put("params", new JsonObject().put("channel", "task:c1")))
          .add(new JsonObject().put("method", "disconnect").put("params", new JsonObject().put("user", "cluster-user"))))));
      assertEquals(1, batch.getJsonArray("replies").getJsonObject(0).getJsonObject("result").getInteger("numUsers"));
      assertEquals(4003, u.awaitClose());
    }
  }

  @Test
  void aTicketFromOneGatewayOpensAStreamOnTheOtherOnce() {
    String token = token("cluster-streamer");
    String ticket = ok(a.post("/v1/tickets", token, null)).getString("ticket");
    String path = "/v1/sse?channels=task:c3&ticket=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8);
    assertEquals(200, b.streamStatus(path));
    GatewayHttp.Reply again = a.get(path, null);
    assertEquals(401, again.status(), again.raw());
    assertEquals(401, b.get(path, null).status());
  }
}
