package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code loadtest http-bench}: the HTTP fallbacks against WebSocket on one Switchboard (memory engine) in one
 * session — heap per idle SSE connection, per held long-poll and per idle WebSocket (after a full GC), and server
 * CPU per delivery with M SSE subscribers against M WebSocket subscribers of one channel at the same publish rate.
 * Clients run in this process; only the server JVM's CPU is counted.
 */
final class HttpBench {
  private HttpBench() {}

  static JsonObject run(Options o) throws Exception {
    o.allowOnly(Set.of("connections", "subscribers", "rate", "duration", "switchboard-jar", "server-jvm-opts", "server-env", "out", "no-fanout", "per-client-tokens", "heap-dump"), "http-bench");
    int n = o.integer("connections", 2000);
    int m = o.integer("subscribers", 1000);
    int rate = o.integer("rate", 100);
    int duration = o.integer("duration", 10);
    Path out = Path.of(o.string("out", "target/http-bench"));
    Files.createDirectories(out);
    JsonObject result = new JsonObject().put("connections", n).put("subscribers", m).put("rate", rate).put("durationSeconds", duration);
    Vertx vertx = Vertx.vertx();
    // the default app gets a key: PubNub clients name their app by it
    try (SwitchboardTarget t = SwitchboardTarget.start(o, "memory", SwitchboardTarget.jars(o).get(0), "pubnub", out)) {
      String token = t.tokens(1, "httpbench").get(0);
      // --per-client-tokens: every held poll (native and PubNub) has its own token and subject, as real agents do;
      // by default all clients share one token (shared verified claims make that the lighter case)
      boolean perClient = o.flag("per-client-tokens");
      List<String> own = perClient ? t.tokens(n, "agent") : java.util.Collections.nCopies(n, token);
      result.put("perClientTokens", perClient);
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(t.port())
          .setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(Math.max(n, m) + 16));
      WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(Math.max(n, m) + 16));
      warmUp(vertx, http, ws, t, token);

      channelsAtRest = channels(t);
      long base = t.memory().getLong("heapBytes");
      var histo = t.classHistogram();
      List<HttpConnection> sse = streams(http, token, n, "/v1/sse?channels=bench:idle", null);
      await(() -> (lastConnections = t.serverConnections()) >= n, 60);
      long withSse = t.memory().getLong("heapBytes");
      result.put("sseHeapGrowthByClass", ProcStats.topGrowth(histo, t.classHistogram(), n, 150));
      for (HttpConnection c : sse) c.close();
      await(() -> (lastConnections = t.serverConnections()) == 0, 60);
      result.put("heapPerIdleSseBytes", (withSse - base) / (double) n);

      awaitChannelsClosed(t);
      base = t.memory().getLong("heapBytes");
      histo = t.classHistogram();
      List<Future<?>> polls = new ArrayList<>();
      for (int i = 0; i < n; i++) polls.add(get(http, own.get(i), "/v1/poll?channels=bench:idle&wait=60"));
      await(() -> (lastConnections = t.serverConnections()) >= n, 60);
      long withPolls = t.memory().getLong("heapBytes");
      result.put("pollHeapGrowthByClass", ProcStats.topGrowth(histo, t.classHistogram(), n, 150));
      dump(o, t, "held-polls");
      result.put("heapPerHeldPollBytes", (withPolls - base) / (double) n);
      http.close().await();
      http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(t.port()).setIdleTimeout(0),
          new PoolOptions().setHttp1MaxSize(Math.max(n, m) + 16));
      await(() -> (lastConnections = t.serverConnections()) == 0, 60);

      awaitChannelsClosed(t);
      base = t.memory().getLong("heapBytes");
      histo = t.classHistogram();
      List<WebSocket> sockets = webSockets(ws, t, token, n, "bench:idle", null);
      await(() -> (lastConnections = t.serverConnections()) >= n, 60);
      long withWs = t.memory().getLong("heapBytes");
      result.put("webSocketHeapGrowthByClass", ProcStats.topGrowth(histo, t.classHistogram(), n, 150));
      result.put("heapPerIdleWebSocketBytes", (withWs - base) / (double) n);
      for (WebSocket s : sockets) s.close();
      await(() -> (lastConnections = t.serverConnections()) == 0, 60);

      // PubNub subscribe long-polls: a handshake, then a held poll per client (its session lives on as the client)
      awaitChannelsClosed(t);
      base = t.memory().getLong("heapBytes");
      histo = t.classHistogram();
      AtomicLong heldSent = new AtomicLong();
      for (int i = 0; i < n; i++) pubnub(http, own.get(i), "pn-idle-" + i, "bench:idle", "0", 5, heldSent, null);
      await(() -> heldSent.get() >= n && (lastConnections = t.serverConnections()) >= n, 120);
      Thread.sleep(2000); // the last polls reach the server
      long withPubNub = t.memory().getLong("heapBytes");
      result.put("pubnubHeapGrowthByClass", ProcStats.topGrowth(histo, t.classHistogram(), n, 150));
      dump(o, t, "pubnub-polls");
      result.put("heapPerHeldPubNubPollBytes", (withPubNub - base) / (double) n);
      http.close().await();
      http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(t.port()).setIdleTimeout(0),
          new PoolOptions().setHttp1MaxSize(Math.max(n, m) + 16));
      // the clients' sessions time out (heartbeat=5 s) once their polls are gone
      await(() -> (lastConnections = t.serverConnections()) == 0, 120);

      if (o.flag("no-fanout")) return finish(result, out, vertx);
      // CPU per delivery: the same fan-out to SSE streams, then to WebSockets
      AtomicLong sseDeliveries = new AtomicLong();
      List<HttpConnection> fan = streams(http, token, m, "/v1/sse?channels=bench:fan", sseDeliveries);
      await(() -> (lastConnections = t.serverConnections()) >= m, 60);
      result.put("sse", fanOut(vertx, http, t, rate, duration, sseDeliveries));
      for (HttpConnection c : fan) c.close();
      await(() -> (lastConnections = t.serverConnections()) == 0, 60);
      AtomicLong wsDeliveries = new AtomicLong();
      List<WebSocket> wsFan = webSockets(ws, t, token, m, "bench:fan", wsDeliveries);
      await(() -> (lastConnections = t.serverConnections()) >= m, 60);
      result.put("webSocket", fanOut(vertx, http, t, rate, duration, wsDeliveries));
      for (WebSocket s : wsFan) s.close();
      await(() -> (lastConnections = t.serverConnections()) == 0, 60);
      // the same fan-out to PubNub subscribe long-poll clients
      AtomicLong pnDeliveries = new AtomicLong();
      AtomicLong pnLive = new AtomicLong();
      for (int i = 0; i < m; i++) pubnub(http, token, "pn-fan-" + i, "bench:fan", "0", 300, pnLive, pnDeliveries);
      await(() -> pnLive.get() >= m, 120);
      result.put("pubnub", fanOut(vertx, http, t, rate, duration, pnDeliveries));
      http.close().await();
      double ratio = result.getJsonObject("sse").getDouble("cpuMicrosPerDelivery") / result.getJsonObject("webSocket").getDouble("cpuMicrosPerDelivery");
      result.put("sseCpuPerDeliveryVsWebSocket", Math.round(ratio * 100) / 100.0);
      double pn = result.getJsonObject("pubnub").getDouble("deliveriesReceivedPerSecond");
      double wsRate = result.getJsonObject("webSocket").getDouble("deliveriesReceivedPerSecond");
      result.put("pubnubDeliveriesVsWebSocket", wsRate == 0 ? 0 : Math.round(pn / wsRate * 100) / 100.0);
      result.put("pubnubCpuPerDeliveryVsWebSocket", Math.round(result.getJsonObject("pubnub").getDouble("cpuMicrosPerDelivery")
          / result.getJsonObject("webSocket").getDouble("cpuMicrosPerDelivery") * 100) / 100.0);
    } catch (Exception e) {
      vertx.close().await();
      throw e;
    }
    return finish(result, out, vertx);
  }

  /** {@code --heap-dump DIR}: the server's live heap while a phase's clients are held, as DIR/PHASE.hprof. */
  private static void dump(Options o, SwitchboardTarget t, String phase) throws Exception {
    String dir = o.string("heap-dump", null);
    if (dir == null) return;
    Files.createDirectories(Path.of(dir));
    Path f = Path.of(dir, phase + ".hprof");
    Files.deleteIfExists(f);
    t.heapDump(f);
  }

  private static JsonObject finish(JsonObject result, Path out, Vertx vertx) throws Exception {
    vertx.close().await();
    Files.writeString(out.resolve("result.json"), result.encodePrettily());
    System.out.println(result.encodePrettily());
    return result;
  }

  private static void warmUp(Vertx vertx, HttpClient http, WebSocketClient ws, SwitchboardTarget t, String token) throws Exception {
    List<HttpConnection> s = streams(http, token, 50, "/v1/sse?channels=bench:warm", null);
    List<WebSocket> w = webSockets(ws, t, token, 50, "bench:warm", null);
    for (int i = 0; i < 50; i++) get(http, token, "/v1/poll?channels=bench:warm&wait=0").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    for (HttpConnection c : s) c.close();
    for (WebSocket x : w) x.close();
    await(() -> (lastConnections = t.serverConnections()) == 0, 60);
  }

  /** Opens SSE streams; counts delivered events when a counter is given. */
  private static List<HttpConnection> streams(HttpClient http, String token, int count, String uri, AtomicLong delivered) throws Exception {
    List<HttpConnection> conns = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      HttpClientResponse r = http.request(new RequestOptions().setURI(uri).addHeader("Authorization", "Bearer " + token))
          .compose(req -> req.send()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (r.statusCode() != 200) throw new IllegalStateException("SSE " + r.statusCode());
      r.exceptionHandler(t -> { }); // closing the streams at the end of a phase is expected
      if (delivered != null) {
        // count "id:" at line starts, byte by byte (lines may be split across reads): as cheap as the WebSocket count
        int[] state = {1}; // 1 = at a line start, 2 = saw 'i', 3 = saw "id", 0 = inside a line
        r.handler(b -> {
          for (int k = 0, len = b.length(); k < len; k++) {
            byte c = b.getByte(k);
            if (c == '\n') {
              state[0] = 1;
            } else if (state[0] == 1) {
              state[0] = c == 'i' ? 2 : 0;
            } else if (state[0] == 2) {
              state[0] = c == 'd' ? 3 : 0;
            } else if (state[0] == 3) {
              if (c == ':') delivered.incrementAndGet();
              state[0] = 0;
            }
          }
        });
      }
      conns.add(r.request().connection());
    }
    return conns;
  }

  /**
   * One PubNub client: the handshake ({@code tt=0}), then subscribe polls with the last timetoken, each counted in
   * {@code polling} when sent for the first time; messages counted in {@code delivered} (null: hold one poll only).
   */
  private static void pubnub(HttpClient http, String token, String uuid, String channel, String tt, int heartbeat, AtomicLong polling,
      AtomicLong delivered) {
    String uri = "/v2/subscribe/" + SwitchboardTarget.PUBNUB_KEY + "/" + channel + "/0?uuid=" + uuid + "&auth=" + token + "&tt=" + tt
        + "&heartbeat=" + heartbeat;
    boolean first = !"0".equals(tt) && POLLING.add(uuid);
    http.request(new RequestOptions().setURI(uri)).compose(req -> {
      if (first) polling.incrementAndGet();
      return req.send();
    }).compose(r -> r.body().map(b -> r.statusCode() == 200 ? new JsonObject(b) : null)).onComplete(ar -> {
      if (ar.failed() || ar.result() == null) return; // closed at the end of a phase
      JsonObject answer = ar.result();
      if (delivered != null) delivered.addAndGet(answer.getJsonArray("m").size());
      if (delivered == null && !"0".equals(tt)) return; // idle: one held poll per client
      pubnub(http, token, uuid, channel, answer.getJsonObject("t").getString("t"), heartbeat, polling, delivered);
    });
  }

  /** Server-side channels (sockets) when nothing is connected. */
  private static long channelsAtRest;

  private static long channels(SwitchboardTarget t) {
    long[] c = t.classHistogram().get("io.netty.channel.socket.nio.NioSocketChannel");
    return c == null ? 0 : c[0];
  }

  /**
   * Waits (up to 30 s) until the server holds no more sockets than at rest: a phase's closed connections linger
   * after their sessions are gone (close handshakes), and would otherwise be freed during the next phase's
   * measurement and hide part of its growth.
   */
  private static void awaitChannelsClosed(SwitchboardTarget t) throws Exception {
    long until = System.currentTimeMillis() + 30_000;
    while (channels(t) > channelsAtRest + 20 && System.currentTimeMillis() < until) Thread.sleep(500);
  }

  /** Uuids whose first long-poll (after the handshake) was sent. */
  private static final java.util.Set<String> POLLING = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static Future<Buffer> get(HttpClient http, String token, String uri) {
    return http.request(new RequestOptions().setURI(uri).addHeader("Authorization", "Bearer " + token))
        .compose(req -> req.send()).compose(HttpClientResponse::body);
  }

  private static List<WebSocket> webSockets(WebSocketClient ws, SwitchboardTarget t, String token, int count, String channel,
      AtomicLong delivered) throws Exception {
    List<WebSocket> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      WebSocket s = ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(t.port()).setURI("/ws")
          .addHeader("Authorization", "Bearer " + token)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      s.textMessageHandler(text -> {
        if (delivered != null && text.contains("\"offset\"") && text.startsWith("{\"type\":\"event\"")) delivered.incrementAndGet();
      });
      s.writeTextMessage(new JsonObject().put("type", "subscribe").put("id", "s").put("channels", new io.vertx.core.json.JsonArray().add(channel)).encode());
      out.add(s);
    }
    return out;
  }

  /** Publishes at {@code rate}/s over the server API for {@code seconds}; server CPU per delivery. */
  private static JsonObject fanOut(Vertx vertx, HttpClient streams, SwitchboardTarget t, int rate, int seconds, AtomicLong delivered) throws Exception {
    // the publisher has its own connections: the subscribers' pool is taken by their streams
    // (and its own event loop: the subscribers' loops are busy reading)
    Vertx pubVertx = Vertx.vertx();
    HttpClient http = pubVertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(t.port()),
        new PoolOptions().setHttp1MaxSize(64));
    AtomicLong ok = new AtomicLong();
    Thread.sleep(1500); // subscriptions settle
    long d0 = delivered.get();
    double w0 = metric(t, "switchboard_deliveries_total");
    double cut0 = metric(t, "switchboard_disconnects_total{code=\"4500\"");
    long conns0 = t.serverConnections();
    double cpu0 = ProcStats.cpuSeconds(t.pids());
    long start = System.nanoTime();
    long sent = 0;
    while (System.nanoTime() - start < seconds * 1_000_000_000L) {
      long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
      while (sent < due) {
        sent++;
        http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/api/publish").addHeader("x-api-key", SwitchboardTarget.ADMIN_KEY))
            .compose(req -> req.send(new JsonObject().put("channel", "bench:fan").put("event", "tick").put("data", "x".repeat(100)).encode()))
            .compose(HttpClientResponse::body).onSuccess(b -> ok.incrementAndGet());
      }
      Thread.sleep(2);
    }
    long deadline = System.currentTimeMillis() + 30_000;
    long before;
    do {
      before = delivered.get();
      Thread.sleep(1000);
    } while (delivered.get() != before && System.currentTimeMillis() < deadline);
    double cpu = ProcStats.cpuSeconds(t.pids()) - cpu0;
    long received = delivered.get() - d0;
    pubVertx.close();
    // deliveries as the server counts them (frames written to client sockets): the figure CPU is divided by
    long written = Math.round(metric(t, "switchboard_deliveries_total") - w0);
    return new JsonObject().put("published", sent).put("deliveriesReceivedPerSecond", Math.round(received / (double) seconds)).put("publishedOk", ok.get()).put("deliveriesWritten", written).put("deliveriesReceived", received)
        .put("slowConsumerCuts", metric(t, "switchboard_disconnects_total{code=\"4500\"") - cut0)
        .put("serverConnectionsBeforeAfter", conns0 + "/" + t.serverConnections())
        .put("serverCpuSeconds", Math.round(cpu * 1000) / 1000.0)
        .put("cpuMicrosPerDelivery", written == 0 ? 0 : Math.round(cpu * 1e6 / written * 100) / 100.0);
  }

  /** One sample of the server's Prometheus text, 0 when absent. */
  private static double metric(SwitchboardTarget t, String prefix) throws Exception {
    for (String line : Target.get(t.metricsUrl()).split("\n")) {
      if (line.startsWith(prefix)) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return 0;
  }

  static volatile long lastConnections = -1;

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void await(Check c, int seconds) throws Exception {
    long end = System.currentTimeMillis() + seconds * 1000L;
    while (!c.ok()) {
      if (System.currentTimeMillis() > end) {
        throw new IllegalStateException("http-bench: condition not reached in " + seconds + " s (server connections " + lastConnections + ")");
      }
      Thread.sleep(100);
    }
  }
}
