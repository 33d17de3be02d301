package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.TestRedis;
import io.switchboard.launcher.PusherWebhooksTest.PusherSocket;
import io.switchboard.launcher.PusherWebhooksTest.Receiver;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Webhooks on a real cluster: three JVMs (store/presence/auth, and two gateways) on one Redis and a clustered event
 * bus. A channel and a user span both gateways; one gateway is killed with SIGKILL (no unsubscribe, no goodbye), and
 * its channels are vacated once, by the heartbeat sweep, while the user who is still on the other gateway stays.
 */
class PusherWebhooksClusterTest {
  private static TestRedis redis;
  private static ClusterProcesses cluster;
  private static ClusterProcesses.Node gw1;
  private static ClusterProcesses.Node gw2;
  private static Vertx vertx;
  private static WebSocketClient ws;
  private static OnContext on;
  private static Receiver receiver;
  private static NodeScript appServer;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient();
    on = new OnContext(vertx);
    receiver = new Receiver(vertx);
    appServer = NodeScript.start("pusher-app-server.js", Map.of("APP_ID", PusherWebhooksTest.APP, "APP_KEY", PusherWebhooksTest.KEY,
        "APP_SECRET", PusherWebhooksTest.SECRET, "HTTP_PORT", "1", "APP_BEARER", "unused"));
    receiver.checkerPort = appServer.event("listening").getInteger("port");
    redis = TestRedis.dedicated();
    JsonArray apps = new JsonArray().add(new JsonObject().put("id", PusherWebhooksTest.APP).put("key", PusherWebhooksTest.KEY)
        .put("secret", PusherWebhooksTest.SECRET)
        .put("webhooks", new JsonArray().add(new JsonObject().put("url", "http://127.0.0.1:" + receiver.port + "/hook"))));
    cluster = new ClusterProcesses(redis.url(), Map.of(
        "SWITCHBOARD_APPS", apps.encode(),
        "SWITCHBOARD_WEBHOOKS_HOLD_MS", "300",
        "SWITCHBOARD_WEBHOOKS_POLL_MS", "20",
        "SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS", "2",
        "SWITCHBOARD_PRESENCE_SWEEP_INTERVAL_MS", "100"));
    List<ClusterProcesses.Node> nodes = cluster.start("core", "store,presence,auth", "gw1", "gateway", "gw2", "gateway");
    gw1 = nodes.get(1);
    gw2 = nodes.get(2);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
    if (appServer != null) appServer.close();
    if (redis != null) redis.stop();
    if (vertx != null) Await.result(vertx.close());
  }

  private static PusherSocket on(ClusterProcesses.Node node) {
    return PusherSocket.open(ws, on, node.wsPort);
  }

  @Test
  void channelsAndMembersSpanningGatewaysHaveTheirEventsOnceAndAKilledGatewaysChannelsAreVacatedOnce() {
    String shared = "room-" + System.nanoTime();
    String solo = "solo-" + System.nanoTime();
    String team = "presence-team-" + System.nanoTime();
    try (PusherSocket a1 = on(gw1); PusherSocket b1 = on(gw2); PusherSocket b2 = on(gw2)) {
      a1.subscribe(shared);
      b1.subscribe(shared);
      b2.subscribe(solo);
      a1.subscribeSigned(team, "u1");
      b1.subscribeSigned(team, "u1");
      receiver.await("channel_occupied", shared);
      receiver.await("channel_occupied", solo);
      receiver.await("member_added", team, "u1");
      a1.unsubscribe(shared); // gw2 still has a subscriber of it

      gw2.kill();
      receiver.await("channel_vacated", shared, Duration.ofSeconds(30));
      receiver.await("channel_vacated", solo, Duration.ofSeconds(30));
      receiver.barrier(() -> on(gw1));
      assertEquals(1, receiver.count("channel_occupied", shared), receiver.toString());
      assertEquals(1, receiver.count("channel_vacated", shared), receiver.toString());
      assertEquals(1, receiver.count("channel_occupied", solo), receiver.toString());
      assertEquals(1, receiver.count("channel_vacated", solo), receiver.toString());
      // the team channel is still occupied by gw1, and u1 is still there through it
      assertEquals(1, receiver.count("channel_occupied", team), receiver.toString());
      assertEquals(0, receiver.count("channel_vacated", team), receiver.toString());
      assertEquals(1, receiver.count("member_added", team, "u1"), receiver.toString());
      assertEquals(0, receiver.count("member_removed", team, "u1"), "u1 is still connected through gw1: " + receiver);

      a1.unsubscribe(team);
      receiver.await("member_removed", team, "u1");
      receiver.await("channel_vacated", team);
      receiver.barrier(() -> on(gw1));
      assertEquals(1, receiver.count("member_removed", team, "u1"), receiver.toString());
      assertEquals(1, receiver.count("channel_vacated", team), receiver.toString());
    }
  }
}
