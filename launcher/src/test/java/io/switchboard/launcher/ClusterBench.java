package io.switchboard.launcher;

import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Measurement, not a test (surefire does not run it): a local cluster (store+presence+auth JVM, gateways A and B),
 * a publisher on A, the same number of subscribers of one channel on A and on B; publish→deliver latency and
 * deliveries/s per side, and how long a node's first subscriber of a channel waits for its first live publication.
 *
 * <p>Run: {@code mvn -q -o -pl launcher test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt} then
 * {@code java -cp launcher/target/test-classes:launcher/target/classes:$(cat launcher/target/cp.txt)
 * io.switchboard.launcher.ClusterBench [subscribersPerSide] [ratePerSecond] [seconds]}.
 */
public final class ClusterBench {
  public static void main(String[] args) throws Exception {
    int perSide = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
    TestRedis redis = TestRedis.dedicated();
    try (ClusterProcesses cluster = new ClusterProcesses(redis.url(), Map.of(
        "SWITCHBOARD_GATEWAY_PUBLISH_RATE_PER_SECOND", "100000", "SWITCHBOARD_GATEWAY_PUBLISH_BURST", "100000"))) {
      ClusterProcesses.Node core = cluster.start("core", "store,presence,auth").get(0);
      List<ClusterProcesses.Node> gws = cluster.start("gateway-a", "gateway", "gateway-b", "gateway");
      Vertx vertx = Vertx.vertx();
      OnContext on = new OnContext(vertx);
      WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 20).setMaxConnections(100_000));
      String token = token(core.authPort);

      long[][] latA = new long[perSide][];
      long[][] latB = new long[perSide][];
      int expected = rate * seconds;
      CountDownLatch done = new CountDownLatch(2 * perSide);
      List<WebSocket> sockets = new ArrayList<>();
      for (int side = 0; side < 2; side++) {
        long[][] lat = side == 0 ? latA : latB;
        int port = gws.get(side).wsPort;
        for (int i = 0; i < perSide; i++) {
          long[] mine = new long[expected];
          lat[i] = mine;
          int[] n = {0};
          CountDownLatch subscribed = new CountDownLatch(1);
          WebSocket s = on.await(() -> ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")));
          s.textMessageHandler(t -> {
            JsonObject f = new JsonObject(t);
            if ("response".equals(f.getString("type"))) {
              if ("s".equals(f.getString("id"))) subscribed.countDown();
              return;
            }
            if (!"tick".equals(f.getString("event"))) return;
            long sent = f.getJsonObject("data").getLong("t");
            if (n[0] < expected) mine[n[0]++] = nowMicros() - sent;
            if (n[0] == expected) {
              n[0]++;
              done.countDown();
            }
          });
          on.await(() -> s.writeTextMessage(connectFrame(token)));
          on.await(() -> s.writeTextMessage(new JsonObject().put("type", "subscribe").put("id", "s").put("channels", new JsonArray().add("bench:fan")).encode()));
          subscribed.await(30, TimeUnit.SECONDS);
          sockets.add(s);
        }
      }
      WebSocket pub = on.await(() -> ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gws.get(0).wsPort).setURI("/ws")));
      on.await(() -> pub.writeTextMessage(connectFrame(token)));
      long start = System.nanoTime();
      for (int i = 0; i < expected; i++) {
        long due = start + (long) i * 1_000_000_000L / rate;
        while (System.nanoTime() < due) Thread.onSpinWait();
        String frame = new JsonObject().put("type", "request").put("id", "p" + i).put("method", "publish")
            .put("params", new JsonObject().put("channel", "bench:fan").put("event", "tick").put("data", new JsonObject().put("t", nowMicros()))).encode();
        on.run(() -> pub.writeTextMessage(frame));
      }
      boolean all = done.await(120, TimeUnit.SECONDS);
      double took = (System.nanoTime() - start) / 1e9;
      System.out.printf("cluster bench: %d subscribers per side, %d publications/s for %d s (all delivered: %s)%n", perSide, rate, seconds, all);
      report("subscribers on A (publisher's gateway)", latA, took);
      report("subscribers on B (other gateway)", latB, took);

      // first subscriber on a node: how long until its first live publication (interest propagation + settle)
      long[] firsts = new long[10];
      for (int k = 0; k < firsts.length; k++) {
        String channel = "bench:first" + k;
        CountDownLatch got = new CountDownLatch(1);
        long[] subscribedAt = {0};
        long[] firstAt = {0};
        WebSocket s = on.await(() -> ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gws.get(1).wsPort).setURI("/ws")));
        s.textMessageHandler(t -> {
          JsonObject f = new JsonObject(t);
          if ("event".equals(f.getString("type")) && "tick".equals(f.getString("event")) && firstAt[0] == 0) {
            firstAt[0] = System.nanoTime();
            got.countDown();
          }
        });
        on.await(() -> s.writeTextMessage(connectFrame(token)));
        Thread publisher = new Thread(() -> {
          while (got.getCount() > 0) {
            String frame = new JsonObject().put("type", "request").put("id", "q").put("method", "publish")
                .put("params", new JsonObject().put("channel", channel).put("event", "tick").put("data", new JsonObject().put("t", nowMicros()))).encode();
            on.run(() -> pub.writeTextMessage(frame));
            try {
              Thread.sleep(1);
            } catch (InterruptedException e) {
              return;
            }
          }
        });
        publisher.start();
        Thread.sleep(50);
        subscribedAt[0] = System.nanoTime();
        on.await(() -> s.writeTextMessage(new JsonObject().put("type", "subscribe").put("id", "s").put("channels", new JsonArray().add(channel)).encode()));
        got.await(30, TimeUnit.SECONDS);
        publisher.join();
        firsts[k] = (firstAt[0] - subscribedAt[0]) / 1000;
        on.await(s::close);
      }
      Arrays.sort(firsts);
      System.out.printf("first subscriber on node B, subscribe sent → first live publication (publishing every ~1 ms): median %.2f ms, max %.2f ms%n",
          firsts[firsts.length / 2] / 1000.0, firsts[firsts.length - 1] / 1000.0);
      vertx.close();
    } finally {
      redis.stop();
    }
    System.exit(0);
  }

  private static void report(String what, long[][] lat, double seconds) {
    int count = 0;
    for (long[] l : lat) for (long v : l) if (v != 0) count++;
    long[] all = new long[count];
    int i = 0;
    for (long[] l : lat) for (long v : l) if (v != 0) all[i++] = v;
    Arrays.sort(all);
    System.out.printf("  %-40s deliveries %d (%.0f/s)  p50 %.2f ms  p99 %.2f ms  max %.2f ms%n", what, count, count / seconds,
        pct(all, 0.50) / 1000.0, pct(all, 0.99) / 1000.0, all.length == 0 ? 0 : all[all.length - 1] / 1000.0);
  }

  private static long pct(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }

  private static long nowMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
  }

  private static String connectFrame(String token) {
    return new JsonObject().put("type", "request").put("id", "c").put("method", "connect").put("params", new JsonObject().put("token", token)).encode();
  }

  private static String token(int authPort) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + authPort + "/v1/tokens"))
        .header("x-api-key", ClusterProcesses.ADMIN_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("subject", "bench").put("grants", TestServer.allGrants()).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body()).getString("token");
  }
}
