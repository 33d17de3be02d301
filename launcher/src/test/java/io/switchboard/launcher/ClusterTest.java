package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Cluster mode with real JVMs on loopback: one JVM for store+presence+auth, gateway JVMs that are killed, added and
 * drained while traffic flows. Delivery is counted per subscriber: lost, duplicated/out-of-order and unrecoverable
 * positions must all be zero.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
  private TestRedis redis;
  private ClusterProcesses cluster;
  private ClusterProcesses.Node core;
  private ClusterProcesses.Node gatewayA;
  private ClusterProcesses.Node gatewayB;
  private Vertx vertx;
  private OnContext on;
  private WebSocketClient ws;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startCluster() throws Exception {
    redis = TestRedis.dedicated();
    cluster = new ClusterProcesses(redis.url(), Map.of(
        "SWITCHBOARD_GATEWAY_PUBLISH_RATE_PER_SECOND", "100000",
        "SWITCHBOARD_GATEWAY_PUBLISH_BURST", "100000",
        "SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS", "3",
        "SWITCHBOARD_PRESENCE_SWEEP_INTERVAL_MS", "200",
        "SWITCHBOARD_APPS", new JsonArray().add(new JsonObject().put("id", "default").put("key", PusherCompatTest.KEY)
            .put("secret", PusherCompatTest.SECRET).put("clientEvents", true)).encode()));
    core = cluster.start("core", "store,presence,auth").get(0);
    List<ClusterProcesses.Node> gws = cluster.start("gateway-a", "gateway", "gateway-b", "gateway");
    gatewayA = gws.get(0);
    gatewayB = gws.get(1);
    vertx = Vertx.vertx();
    on = new OnContext(vertx);
    ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 20).setMaxConnections(100_000));
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) cluster.close();
    if (vertx != null) Await.result(vertx.close());
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

  private WsClient connect(ClusterProcesses.Node gateway, String token) {
    io.vertx.core.http.ClientWebSocket socket = ws.webSocket();
    WsClient c = new WsClient(socket, on);
    on.await(() -> socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gateway.wsPort).setURI("/ws")));
    JsonObject r = c.request("connect", new JsonObject().put("token", token));
    if (r.containsKey("error")) throw new AssertionError("connect failed: " + r.encode());
    return c;
  }

  /** Publishes round-robin over the channels from its own thread until stopped; remembers the last offset per channel. */
  private final class Publisher implements AutoCloseable {
    final Map<String, Long> finals = new ConcurrentHashMap<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final Thread thread;
    volatile int published;
    volatile Throwable failure;

    Publisher(WsClient client, List<String> channels, long pauseMs) {
      thread = new Thread(() -> {
        int i = 0;
        try {
          while (running.get()) {
            String ch = channels.get(i++ % channels.size());
            JsonObject r = client.result("publish", new JsonObject().put("channel", ch).put("event", "tick").put("data", i));
            finals.put(ch, r.getLong("offset"));
            published++;
            if (pauseMs > 0) Thread.sleep(pauseMs);
          }
        } catch (Throwable t) {
          failure = t;
        }
      }, "publisher");
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join(30_000);
      if (failure != null) throw new AssertionError("publisher failed", failure);
    }
  }

  private static List<String> channels(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(prefix + i);
    return out;
  }

  private List<TrackingClient> trackers(String prefix, List<String> channels, int clients, int perClient, List<Integer> ports) throws Exception {
    List<TrackingClient> out = new ArrayList<>();
    String token = token(prefix + "-subscriber");
    for (int i = 0; i < clients; i++) {
      List<String> mine = new ArrayList<>();
      for (int k = 0; k < perClient; k++) mine.add(channels.get((i * perClient + k) % channels.size()));
      TrackingClient t = new TrackingClient(prefix + i, vertx, ws, token, mine, ports);
      t.start();
      out.add(t);
    }
    for (TrackingClient t : out) Await.until(t.name + " subscribed", t::subscribed);
    return out;
  }

  private static void assertNothingLost(List<TrackingClient> trackers, Map<String, Long> finals) {
    for (TrackingClient t : trackers) Await.until(t.name + " caught up: " + t, Duration.ofSeconds(60), () -> t.caughtUp(finals));
    for (TrackingClient t : trackers) t.stop();
    int delivered = 0;
    for (TrackingClient t : trackers) {
      synchronized (t) {
        assertEquals(0, t.lost, "lost: " + t);
        assertEquals(0, t.duplicated, "duplicated or out of order: " + t);
        assertEquals(0, t.unrecovered, "unrecoverable positions: " + t);
        delivered += t.delivered;
      }
    }
    assertTrue(delivered > 0);
  }

  /** pusher-js clients on two gateways: presence users, triggers, client events and counts span the cluster. */
  @Test
  @Order(0)
  void pusherClientsOnTwoGatewaysShareChannelsPresenceAndCounts() throws Exception {
    try (NodeScript app = NodeScript.start("pusher-app-server.js", Map.of("APP_ID", "default", "APP_KEY", PusherCompatTest.KEY,
        "APP_SECRET", PusherCompatTest.SECRET, "HTTP_PORT", Integer.toString(gatewayB.wsPort), "APP_BEARER", PusherCompatTest.BEARER))) {
      String appUrl = "http://127.0.0.1:" + app.event("listening").getInteger("port");
      java.util.function.Function<JsonObject[], JsonObject> call = pathAndBody -> {
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(appUrl + pathAndBody[0].getString("path")))
              .POST(HttpRequest.BodyPublishers.ofString(pathAndBody[1].encode())).build(), HttpResponse.BodyHandlers.ofString());
          return new JsonObject(r.body());
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      };
      String pres = "presence-cluster-room";
      try (NodeScript ada = pusher(gatewayA, appUrl, "ada"); NodeScript bob = pusher(gatewayB, appUrl, "bob")) {
        PusherCompatTest.subscribe(ada, pres);
        PusherCompatTest.cmd(bob, "subscribe", "channel", pres, "events", new JsonArray().add("client-hello"));
        assertEquals(2, bob.take("bob subscribed", j -> "subscribed".equals(j.getString("event"))).getJsonObject("members").getInteger("count"));
        assertEquals("bob", ada.event("member_added").getString("id"));
        JsonObject t = call.apply(new JsonObject[] {new JsonObject().put("path", "/trigger"),
            new JsonObject().put("channels", new JsonArray().add(pres)).put("name", "via-b").put("data", "x")});
        assertEquals("{}", t.getString("body"), t.encode());
        PusherCompatTest.message(ada, pres, "via-b");
        PusherCompatTest.cmd(ada, "client-event", "channel", pres, "name", "client-hello", "data", new JsonObject());
        assertEquals("ada", PusherCompatTest.message(bob, pres, "client-hello").getString("userId"));
        JsonObject info = new JsonObject(call.apply(new JsonObject[] {new JsonObject().put("path", "/get"),
            new JsonObject().put("path", "/channels/" + pres).put("params", new JsonObject().put("info", "user_count,subscription_count"))})
            .getString("body"));
        assertEquals(2, info.getInteger("subscription_count"), info.encode());
        assertEquals(2, info.getInteger("user_count"), info.encode());
        PusherCompatTest.cmd(ada, "disconnect");
        assertEquals("ada", bob.event("member_removed").getString("id"));
      }
    }
  }

  private static NodeScript pusher(ClusterProcesses.Node gateway, String appUrl, String user) {
    NodeScript c = NodeScript.start("pusher-client.js", Map.of("APP_KEY", PusherCompatTest.KEY, "WS_PORT", Integer.toString(gateway.wsPort),
        "AUTH_URL", appUrl, "APP_BEARER", PusherCompatTest.BEARER, "AUTH_QUERY", "?user=" + user));
    c.event("connected");
    return c;
  }

  /** The admin dashboard of any JVM sees every node, and its actions reach the auth service on another JVM. */
  @Test
  @Order(0)
  void adminDashboardOfAGatewayShowsTheWholeCluster() throws Exception {
    String ops = "http://127.0.0.1:" + gatewayA.opsPort;
    HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(ops + "/admin/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("key=" + ClusterProcesses.ADMIN_KEY)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(303, login.statusCode(), login.body());
    String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(ops + "/admin/api/cluster")).header("Cookie", cookie).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    JsonObject body = new JsonObject(r.body());
    assertTrue(body.getBoolean("clustered"));
    List<String> roles = new ArrayList<>();
    for (Object o : body.getJsonArray("nodes")) {
      JsonObject n = (JsonObject) o;
      assertTrue(n.getBoolean("reachable"), n.encode());
      assertEquals("ok", n.getString("redis"), n.encode());
      roles.add(String.join(",", n.getJsonArray("services").getList()));
    }
    roles.sort(null);
    assertEquals(List.of("gateway", "gateway", "store,presence,auth"), roles, r.body());
    HttpResponse<String> minted = http.send(HttpRequest.newBuilder(URI.create(ops + "/admin/api/auth/token")).header("Cookie", cookie)
        .header(AdminConsole.CSRF_HEADER, "1").header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("subject", "from-gateway-dashboard")
            .put("grants", TestServer.allGrants()).encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, minted.statusCode(), minted.body());
    assertEquals("from-gateway-dashboard", new JsonObject(minted.body()).getString("subject"));
  }

  @Test
  @Order(1)
  void clientOnOneGatewayReceivesInOrderWhatClientsOnAnotherPublish() throws Exception {
    String token = token("cross");
    try (WsClient receiver = connect(gatewayA, token); WsClient sender = connect(gatewayB, token)) {
      receiver.subscribe("task:x1", "task:x2");
      for (int i = 1; i <= 50; i++) {
        sender.result("publish", new JsonObject().put("channel", i % 2 == 0 ? "task:x2" : "task:x1").put("event", "n").put("data", i));
      }
      List<Integer> x1 = new ArrayList<>();
      List<Integer> x2 = new ArrayList<>();
      for (int i = 1; i <= 50; i++) {
        JsonObject e = receiver.take("event " + i, f -> "n".equals(f.getString("event")));
        (e.getString("channel").equals("task:x1") ? x1 : x2).add(e.getInteger("data"));
      }
      for (int i = 1; i < x1.size(); i++) assertTrue(x1.get(i) > x1.get(i - 1), "in order: " + x1);
      for (int i = 1; i < x2.size(); i++) assertTrue(x2.get(i) > x2.get(i - 1), "in order: " + x2);
      assertEquals(25, x1.size());
      assertEquals(25, x2.size());
    }
  }

  @Test
  @Order(2)
  void revocationClosesConnectionsOnEveryGatewayQuickly() throws Exception {
    String token = token("revoked-everywhere");
    try (WsClient onA = connect(gatewayA, token); WsClient onB = connect(gatewayB, token)) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + core.authPort + "/v1/revocations"))
          .header("x-api-key", ClusterProcesses.ADMIN_KEY).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("subject", "revoked-everywhere").encode())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(202, r.statusCode(), r.body());
      assertEquals(4003, onA.awaitClose());
      assertEquals(4003, onB.awaitClose());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.println("[measure] revocation closed connections on 2 gateways in " + ms + " ms");
    }
  }

  /** kill -9 a gateway while 100 channels stream; its clients reconnect to the other one and recover. */
  @Test
  @Order(3)
  void killingAGatewayLosesNothing() throws Exception {
    List<String> chans = channels("stream:k", 100);
    try (WsClient pubClient = connect(gatewayA, token("kill-publisher"))) {
      // the subscribers start on B and fail over to A
      List<TrackingClient> trackers = trackers("kill", chans, 20, 5, List.of(gatewayB.wsPort, gatewayA.wsPort));
      Map<String, Long> finals;
      try (Publisher pub = new Publisher(pubClient, chans, 1)) {
        Await.until("traffic flowing", () -> pub.published > 300);
        gatewayB.kill();
        int before = pub.published;
        Await.until("traffic after the kill", Duration.ofSeconds(30), () -> pub.published > before + 600);
        finals = pub.finals;
      }
      assertNothingLost(trackers, Map.copyOf(finals));
      for (TrackingClient t : trackers) assertTrue(t.reconnects >= 1, "failed over: " + t);
      System.out.println("[measure] fault=gateway-kill-9 channels=100 published=" + finals.values().stream().mapToLong(Long::longValue).sum()
          + " subscribers=" + trackers.size() + " delivered=" + trackers.stream().mapToInt(t -> t.delivered).sum()
          + " lost=" + trackers.stream().mapToInt(t -> t.lost).sum()
          + " duplicated=" + trackers.stream().mapToInt(t -> t.duplicated - t.outOfOrder).sum()
          + " reordered=" + trackers.stream().mapToInt(t -> t.outOfOrder).sum()
          + " unrecovered=" + trackers.stream().mapToInt(t -> t.unrecovered).sum()
          + " reconnects=" + trackers.stream().mapToInt(t -> t.reconnects).sum()
          + " longestOutageMs=" + trackers.stream().mapToLong(t -> t.longestOutageMs).max().orElse(0));
    }
    gatewayB = cluster.start("gateway-b2", "gateway").get(0);
  }

  /** A gateway joins while traffic flows and subscribers move to it; another is drained with SIGTERM. */
  @Test
  @Order(4)
  void addingAndDrainingGatewaysLosesNothing() throws Exception {
    List<String> chans = channels("stream:d", 40);
    try (WsClient pubClient = connect(gatewayA, token("drain-publisher"))) {
      List<TrackingClient> onB = trackers("drainB", chans, 8, 5, List.of(gatewayB.wsPort, gatewayA.wsPort));
      Map<String, Long> finals;
      List<TrackingClient> onC;
      ClusterProcesses.Node gatewayC;
      try (Publisher pub = new Publisher(pubClient, chans, 1)) {
        Await.until("traffic flowing", () -> pub.published > 200);
        gatewayC = cluster.start("gateway-c", "gateway").get(0);
        onC = trackers("onC", chans, 8, 5, List.of(gatewayC.wsPort, gatewayA.wsPort));
        int before = pub.published;
        Await.until("traffic to the new node", Duration.ofSeconds(30), () -> pub.published > before + 300);
        gatewayB.terminate();
        int after = pub.published;
        Await.until("traffic after the drain", Duration.ofSeconds(30), () -> pub.published > after + 300);
        finals = pub.finals;
      }
      List<TrackingClient> all = new ArrayList<>(onB);
      all.addAll(onC);
      assertNothingLost(all, Map.copyOf(finals));
      for (TrackingClient t : onB) {
        synchronized (t) {
          assertTrue(t.closeCodes.contains(4504), "told to reconnect elsewhere (4504): " + t);
        }
      }
      gatewayB = gatewayC;
    }
  }

  /** Members of a crashed gateway's clients time out for watchers on the surviving gateways. */
  @Test
  @Order(5)
  void presenceOfACrashedGatewaysClientsTimesOut() throws Exception {
    try (WsClient watcher = connect(gatewayA, token("pt-watcher"))) {
      watcher.subscribe("chat:pt");
      WsClient doomed = connect(gatewayB, token("pt-doomed"));
      doomed.subscribe("chat:pt");
      watcher.take("join", f -> "presence.join".equals(f.getString("event")) && "pt-doomed".equals(f.getJsonObject("data").getString("subject")));
      long t0 = System.nanoTime();
      gatewayB.kill();
      JsonObject timeout = watcher.take("timeout", f -> "presence.timeout".equals(f.getString("event")), Duration.ofSeconds(30));
      assertEquals("pt-doomed", timeout.getJsonObject("data").getString("subject"));
      System.out.println("[measure] presence.timeout of a crashed gateway's member after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      JsonArray members = watcher.result("presence", new JsonObject().put("channel", "chat:pt")).getJsonArray("members");
      assertEquals(1, members.size());
    }
  }
}
