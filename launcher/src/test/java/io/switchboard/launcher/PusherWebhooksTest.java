package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.TestRedis;
import io.switchboard.gateway.protocol.pusher.PusherSignatures;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Webhooks as a Pusher app server receives them: a real HTTP receiver, every request's signature checked by the
 * `pusher` library's own webhook validation (the node app server's {@code /webhook-check}), events counted per channel.
 *
 * <p>"Two gateways" here are two whole Switchboards in this JVM on one Redis, NOT clustered: two gateway nodes, each
 * with its own presence service and webhook sender, that share nothing but Redis — the stores alone must make every
 * occupancy and member event happen once. A dead node is a node id whose heartbeats stop (sent on the real bus
 * address); a restarted sender is a Switchboard closed and another started on the same Redis.
 */
class PusherWebhooksTest {
  static final String APP = "hooks";
  static final String KEY = "hooks-key";
  static final String SECRET = "hooks-secret-1";
  /** Pusher holds vacated/removed about 3 s: as here, long enough that a quick re-subscribe lands inside it even on a starved CI machine (at 1 s a stall between the two messages once let the vacated out). */
  static final long HOLD_MS = 3000;

  private static Vertx vertx;
  private static Receiver receiver;
  private static NodeScript appServer;
  private static TestServer one;
  private static TestRedis redis;
  private static TestServer a;
  private static TestServer b;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    receiver = new Receiver(vertx);
    redis = TestRedis.dedicated();
    one = TestServer.start(config());
    a = TestServer.start(onRedis(redis));
    b = TestServer.start(onRedis(redis));
    appServer = NodeScript.start("pusher-app-server.js", Map.of("APP_ID", APP, "APP_KEY", KEY, "APP_SECRET", SECRET,
        "HTTP_PORT", Integer.toString(one.wsPort), "APP_BEARER", "unused"));
    receiver.checkerPort = appServer.event("listening").getInteger("port");
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {appServer, one, a, b}) {
      try {
        if (c != null) c.close();
      } catch (Exception ignored) {
        // closing the rest matters more
      }
    }
    if (redis != null) redis.stop();
    if (vertx != null) Await.result(vertx.close());
  }

  static JsonObject config() {
    return new JsonObject()
        .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("key", KEY).put("secret", SECRET).put("clientEvents", true)
            .put("webhooks", new JsonArray().add(new JsonObject().put("url", "http://127.0.0.1:" + receiver.port + "/hook")))))
        .put("webhooks", new JsonObject().put("holdMs", HOLD_MS).put("backoffMs", 50).put("maxBackoffMs", 200).put("pollMs", 20)
            .put("timeoutMs", 2000))
        // nodes (and members) are dead 2 s after their last heartbeat: the dead-node test waits that long
        .put("presence", new JsonObject().put("timeoutSeconds", 2).put("sweepIntervalMs", 100));
  }

  static JsonObject onRedis(TestRedis r) {
    return config().put("engine", "redis").put("redis", new JsonObject().put("url", r.url()));
  }

  // --- occupancy ----------------------------------------------------------------------------------

  @Test
  void aChannelWithSubscribersOnTwoGatewaysIsOccupiedOnceAndVacatedOnce() {
    String ch = "room-" + System.nanoTime();
    try (PusherSocket onA = PusherSocket.open(a); PusherSocket onB = PusherSocket.open(b); PusherSocket alsoB = PusherSocket.open(b)) {
      onA.subscribe(ch);
      receiver.await("channel_occupied", ch);
      onB.subscribe(ch);
      alsoB.subscribe(ch);
      onA.unsubscribe(ch);
      onB.unsubscribe(ch);
      // alsoB still holds the channel: not vacated (the barrier proves every sender had its chance)
      receiver.barrier(a);
      assertEquals(0, receiver.count("channel_vacated", ch), receiver.toString());
      alsoB.unsubscribe(ch);
      receiver.await("channel_vacated", ch);
      receiver.barrier(a);
      assertEquals(1, receiver.count("channel_occupied", ch), receiver.toString());
      assertEquals(1, receiver.count("channel_vacated", ch), receiver.toString());
    }
  }

  @Test
  void aQuickReSubscribeWithinTheHoldSendsNeitherVacatedNorASecondOccupied() {
    String ch = "reload-" + System.nanoTime();
    try (PusherSocket c = PusherSocket.open(one)) {
      c.subscribe(ch);
      receiver.await("channel_occupied", ch);
      // page reloads: back within the hold, so each vacated/occupied pair is dropped (ten of them, back to back: the
      // webhook service must apply one channel's changes in order, whatever Redis connection each one takes)
      for (int i = 0; i < 10; i++) {
        c.unsubscribe(ch);
        c.subscribe(ch);
      }
      c.unsubscribe(ch);
      // this vacated is due after the dropped one would have been: had that one been sent, it is in by now
      receiver.await("channel_vacated", ch);
      receiver.barrier(one);
      assertEquals(1, receiver.count("channel_occupied", ch), receiver.toString());
      assertEquals(1, receiver.count("channel_vacated", ch), receiver.toString());
    }
  }

  @Test
  void theChannelsOfAGatewayNodeThatStopsItsHeartbeatsAreVacatedOnce() {
    String ch = "ghost-" + System.nanoTime();
    String node = "ghost-node-" + System.nanoTime();
    // the node announces its first subscriber, exactly as a gateway does, and then dies: no heartbeat, no removal
    JsonObject change = new JsonObject().put("node", node).put("seq", 1).put("channel", APP + "~" + ch).put("occupied", true);
    Await.result(a.sb.vertx().eventBus().request(Addresses.WEBHOOKS_OCCUPANCY, change));
    receiver.await("channel_occupied", ch);
    receiver.await("channel_vacated", ch, Duration.ofSeconds(20));
    receiver.barrier(a);
    assertEquals(1, receiver.count("channel_occupied", ch), receiver.toString());
    assertEquals(1, receiver.count("channel_vacated", ch), receiver.toString());
  }

  // --- members ------------------------------------------------------------------------------------

  @Test
  void membersAreAddedAndRemovedOncePerUserAcrossTwoGateways() {
    String ch = "presence-team-" + System.nanoTime();
    try (PusherSocket u1OnA = PusherSocket.open(a); PusherSocket u1OnB = PusherSocket.open(b); PusherSocket u2OnB = PusherSocket.open(b)) {
      u1OnA.subscribeSigned(ch, "u1");
      u1OnB.subscribeSigned(ch, "u1");
      u2OnB.subscribeSigned(ch, "u2");
      receiver.await("member_added", ch, "u1");
      receiver.await("member_added", ch, "u2");
      u1OnA.unsubscribe(ch);
      receiver.barrier(a);
      assertEquals(0, receiver.count("member_removed", ch, "u1"), "u1 still has a connection: " + receiver);
      u1OnB.close();
      u2OnB.unsubscribe(ch);
      receiver.await("member_removed", ch, "u1");
      receiver.await("member_removed", ch, "u2");
      receiver.barrier(a);
      for (String u : List.of("u1", "u2")) {
        assertEquals(1, receiver.count("member_added", ch, u), receiver.toString());
        assertEquals(1, receiver.count("member_removed", ch, u), receiver.toString());
      }
    }
  }

  // --- raised by the Pusher dialect ---------------------------------------------------------------

  @Test
  void clientEventsAreReportedWithSocketIdAndOnPresenceChannelsTheUserId() {
    String priv = "private-chat-" + System.nanoTime();
    String pres = "presence-chat-" + System.nanoTime();
    try (PusherSocket sender = PusherSocket.open(one); PusherSocket other = PusherSocket.open(one)) {
      sender.subscribeSigned(priv, null);
      other.subscribeSigned(priv, null);
      sender.subscribeSigned(pres, "alice");
      sender.send(new JsonObject().put("event", "client-typing").put("channel", priv).put("data", new JsonObject().put("n", 1)));
      other.take("the client event", f -> "client-typing".equals(f.getString("event")));
      sender.send(new JsonObject().put("event", "client-wave").put("channel", pres).put("data", "hi"));
      JsonObject e = receiver.await("client_event", priv);
      assertEquals("client-typing", e.getString("event"));
      assertEquals(new JsonObject().put("n", 1), new JsonObject(e.getString("data")));
      assertEquals(sender.socketId, e.getString("socket_id"));
      assertFalse(e.containsKey("user_id"), e.encode());
      JsonObject p = receiver.await("client_event", pres);
      assertEquals("client-wave", p.getString("event"));
      assertEquals("hi", p.getString("data"));
      assertEquals("alice", p.getString("user_id"));
    }
  }

  @Test
  void aCacheChannelWithoutCachedEventReportsACacheMiss() {
    String ch = "cache-prices-" + System.nanoTime();
    try (PusherSocket c = PusherSocket.open(one)) {
      c.subscribe(ch);
      c.take("pusher:cache_miss", f -> "pusher:cache_miss".equals(f.getString("event")));
      assertEquals(ch, receiver.await("cache_miss", ch).getString("channel"));
    }
  }

  // --- delivery -----------------------------------------------------------------------------------

  @Test
  void aFailingReceiverGetsTheEventsAgainWithBackoffUntilItAnswers2xx() {
    String ch = "cache-retry-" + System.nanoTime();
    Predicate<Receiver.Hook> carriesIt = h -> h.events.stream().anyMatch(e -> isEvent(e, "cache_miss", ch, null));
    receiver.failAll = true;
    try (PusherSocket c = PusherSocket.open(one)) {
      c.subscribe(ch);
      Await.until("two failed attempts", () -> receiver.requests(carriesIt).size() >= 2);
      receiver.failAll = false;
      receiver.await("cache_miss", ch);
    } finally {
      receiver.failAll = false;
    }
    List<Receiver.Hook> attempts = receiver.requests(carriesIt);
    assertEquals(500, attempts.get(0).status);
    assertEquals(500, attempts.get(1).status);
    assertEquals(200, attempts.get(attempts.size() - 1).status);
    receiver.barrier(one);
    assertEquals(1, receiver.requests(carriesIt).stream().filter(h -> h.status == 200).count(), "delivered once: " + attempts);
    assertTrue(one.metric("switchboard_webhook_failures_total") >= 2, "failures are counted");
    assertTrue(one.metric("switchboard_webhook_requests_total") >= 1);
  }

  @Test
  void eventsQueuedInRedisSurviveARestartOfTheSender() {
    TestRedis own = TestRedis.dedicated();
    String ch = "cache-durable-" + System.nanoTime();
    receiver.failAll = true;
    TestServer first = TestServer.start(onRedis(own));
    try {
      try (PusherSocket c = PusherSocket.open(first)) {
        c.subscribe(ch);
        c.take("pusher:cache_miss", f -> "pusher:cache_miss".equals(f.getString("event")));
        Await.until("a failed attempt", () -> !receiver.requests(h -> h.events.stream().anyMatch(e -> isEvent(e, "cache_miss", ch, null))).isEmpty());
      }
      first.close(); // the sender goes away with the events still failing
      first = null;
      receiver.failAll = false;
      TestServer second = TestServer.start(onRedis(own));
      try {
        receiver.await("cache_miss", ch, Duration.ofSeconds(20));
        receiver.await("channel_occupied", ch, Duration.ofSeconds(20));
        // the first server's gateway is gone: its channel is vacated (by its own last unsubscribe, or by the sweep)
        receiver.await("channel_vacated", ch, Duration.ofSeconds(20));
        receiver.barrier(second);
        assertEquals(1, receiver.count("cache_miss", ch), receiver.toString());
        assertEquals(1, receiver.count("channel_vacated", ch), receiver.toString());
      } finally {
        second.close();
      }
    } finally {
      receiver.failAll = false;
      if (first != null) first.close();
      own.stop();
    }
  }

  static boolean isEvent(JsonObject e, String name, String channel, String userId) {
    return name.equals(e.getString("name")) && channel.equals(e.getString("channel"))
        && (userId == null || userId.equals(e.getString("user_id")));
  }

  // --- the receiver ---------------------------------------------------------------------------------

  /**
   * The app server's webhook endpoint: answers 500 while told to fail, else 200, and records every request. Each
   * request is checked with the `pusher` library ({@code pusher.webhook(…).isValid()}), which also parses its events.
   */
  static final class Receiver {
    final int port;
    volatile int checkerPort;
    final AtomicInteger failNext = new AtomicInteger();
    volatile boolean failAll;
    private final List<Hook> hooks = new ArrayList<>();
    private final HttpClient checker = HttpClient.newHttpClient();
    private int barriers;

    static final class Hook {
      final int status;
      final JsonObject headers;
      final String body;
      List<JsonObject> events;

      Hook(int status, JsonObject headers, String body) {
        this.status = status;
        this.headers = headers;
        this.body = body;
      }

      @Override
      public String toString() {
        return status + " " + body;
      }
    }

    Receiver(Vertx vertx) {
      HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
        int status = failAll || failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 500 : 200;
        JsonObject headers = new JsonObject();
        req.headers().forEach(h -> headers.put(h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue()));
        synchronized (this) {
          hooks.add(new Hook(status, headers, b.toString()));
        }
        req.response().setStatusCode(status).end();
      }));
      port = Await.result(server.listen(0, "127.0.0.1")).actualPort();
    }

    /** Every request so far, each validated by the pusher library on first sight (an invalid one fails the test). */
    List<Hook> requests(Predicate<Hook> p) {
      List<Hook> copy;
      synchronized (this) {
        copy = new ArrayList<>(hooks);
      }
      List<Hook> out = new ArrayList<>();
      for (Hook h : copy) {
        if (h.events == null) h.events = check(h);
        if (p.test(h)) out.add(h);
      }
      return out;
    }

    private List<JsonObject> check(Hook h) {
      assertEquals("application/json", h.headers.getString("content-type"), h.toString());
      assertEquals(KEY, h.headers.getString("x-pusher-key"), h.toString());
      JsonObject req = new JsonObject().put("headers", new JsonObject()
              .put("x-pusher-key", h.headers.getString("x-pusher-key"))
              .put("x-pusher-signature", h.headers.getString("x-pusher-signature"))
              .put("content-type", h.headers.getString("content-type")))
          .put("body", h.body);
      try {
        HttpResponse<String> r = checker.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + checkerPort + "/webhook-check"))
            .POST(HttpRequest.BodyPublishers.ofString(req.encode())).build(), HttpResponse.BodyHandlers.ofString());
        JsonObject verdict = new JsonObject(r.body());
        assertTrue(verdict.getBoolean("valid"), "the pusher library rejects webhook " + h + ": " + verdict);
        JsonObject body = new JsonObject(h.body);
        assertTrue(body.getLong("time_ms") > 0, h.toString());
        List<JsonObject> events = new ArrayList<>();
        for (Object e : verdict.getJsonArray("events")) events.add((JsonObject) e);
        assertEquals(body.getJsonArray("events").size(), events.size());
        return events;
      } catch (java.io.IOException e) {
        throw new AssertionError("webhook check failed: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** The events delivered (answered 2xx) so far that match. */
    List<JsonObject> delivered(Predicate<JsonObject> p) {
      List<JsonObject> out = new ArrayList<>();
      for (Hook h : requests(x -> x.status / 100 == 2)) for (JsonObject e : h.events) if (p.test(e)) out.add(e);
      return out;
    }

    long count(String name, String channel) {
      return count(name, channel, null);
    }

    long count(String name, String channel, String userId) {
      return delivered(e -> isEvent(e, name, channel, userId)).size();
    }

    JsonObject await(String name, String channel) {
      return await(name, channel, null, Duration.ofSeconds(15));
    }

    JsonObject await(String name, String channel, String userId) {
      return await(name, channel, userId, Duration.ofSeconds(15));
    }

    JsonObject await(String name, String channel, Duration timeout) {
      return await(name, channel, null, timeout);
    }

    JsonObject await(String name, String channel, String userId, Duration timeout) {
      Await.until(name + " of " + channel + (userId == null ? "" : " for " + userId) + "; received: " + this, timeout,
          () -> count(name, channel, userId) > 0);
      return delivered(e -> isEvent(e, name, channel, userId)).get(0);
    }

    /**
     * Waits until a cache_miss raised after this call is delivered: every event queued before it, in any sender
     * polling the queue, has had a full poll to arrive (a duplicate would be in by now).
     */
    void barrier(TestServer via) {
      barrier(() -> PusherSocket.open(via));
    }

    void barrier(java.util.function.Supplier<PusherSocket> via) {
      String ch = "cache-barrier-" + (++barriers) + "-" + System.nanoTime();
      try (PusherSocket c = via.get()) {
        c.subscribe(ch);
        await("cache_miss", ch);
      }
    }

    @Override
    public synchronized String toString() {
      return hooks.toString();
    }
  }

  // --- a Pusher protocol 7 socket -------------------------------------------------------------------

  /** A plain WebSocket speaking Pusher protocol 7 (what pusher-js sends), signing its own channel auths. */
  static final class PusherSocket implements AutoCloseable {
    final WsClient ws;
    final String socketId;

    private PusherSocket(WsClient ws) {
      this.ws = ws;
      JsonObject est = take("connection_established", f -> "pusher:connection_established".equals(f.getString("event")));
      this.socketId = new JsonObject(est.getString("data")).getString("socket_id");
    }

    static PusherSocket open(TestServer s) {
      return open(s.ws, s.on, s.wsPort);
    }

    static PusherSocket open(WebSocketClient ws, OnContext on, int port) {
      ClientWebSocket socket = ws.webSocket();
      WsClient client = new WsClient(socket, on);
      on.await(() -> socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
          .setURI("/app/" + KEY + "?protocol=7&client=js&version=8.4.0")));
      return new PusherSocket(client);
    }

    JsonObject take(String what, Predicate<JsonObject> p) {
      return ws.take(what, p);
    }

    void send(JsonObject frame) {
      ws.send(frame);
    }

    void subscribe(String channel) {
      subscribeWith(channel, new JsonObject().put("channel", channel));
    }

    /** A private or presence channel, with the app server's signature ({@code userId} for presence). */
    void subscribeSigned(String channel, String userId) {
      String channelData = userId == null ? null : new JsonObject().put("user_id", userId).put("user_info", new JsonObject()).encode();
      JsonObject d = new JsonObject().put("channel", channel)
          .put("auth", PusherSignatures.channelAuth(KEY, SECRET, socketId, channel, channelData));
      if (channelData != null) d.put("channel_data", channelData);
      subscribeWith(channel, d);
    }

    private void subscribeWith(String channel, JsonObject data) {
      ws.send(new JsonObject().put("event", "pusher:subscribe").put("data", data));
      JsonObject answer = take("subscribed to " + channel, f -> channel.equals(f.getString("channel"))
          && ("pusher_internal:subscription_succeeded".equals(f.getString("event")) || "pusher:subscription_error".equals(f.getString("event"))));
      assertEquals("pusher_internal:subscription_succeeded", answer.getString("event"), answer.encode());
    }

    void unsubscribe(String channel) {
      ws.send(new JsonObject().put("event", "pusher:unsubscribe").put("data", new JsonObject().put("channel", channel)));
    }

    @Override
    public void close() {
      ws.close();
    }
  }
}
