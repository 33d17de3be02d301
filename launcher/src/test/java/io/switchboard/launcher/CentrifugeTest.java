package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.test.Await;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An unmodified centrifuge-js v5 (npm, in Node, with the ws package) against Switchboard's Centrifuge endpoint
 * {@code /connection/websocket}: what a Centrifugo user's frontend does, end to end.
 */
class CentrifugeTest {
  static TestServer s;
  private static final AtomicInteger refs = new AtomicInteger();

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("gateway", new JsonObject().put("maxQueueBytes", 256 * 1024));
    s = TestServer.start(cfg);
    Await.result(s.sb.vertx().deployVerticle(new RpcApp()));
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
  }

  /** An application RPC handler: {@code rpc.echo} answers with what it was sent and who sent it. */
  static final class RpcApp extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.eventBus().<JsonObject>consumer(Addresses.rpc("echo"), m -> m.reply(new JsonObject()
          .put("got", m.body().getJsonObject("params")).put("subject", m.body().getString("subject")))).completion();
    }
  }

  // --- helpers ----------------------------------------------------------------------------------

  static String url(TestServer server) {
    return "ws://127.0.0.1:" + server.wsPort + "/connection/websocket";
  }

  static NodeScript driver() {
    NodeScript n = NodeScript.start("centrifuge-driver.js", Map.of());
    n.event("ready");
    return n;
  }

  static NodeScript connected(TestServer server, String token) {
    NodeScript n = driver();
    n.send(new JsonObject().put("op", "connect").put("url", url(server)).put("token", token));
    n.event("connected");
    return n;
  }

  static void subscribe(NodeScript n, String channel, JsonObject options) {
    subscribe(n, channel, options, "full");
  }

  /** {@code print} "digest": the script reports a SHA-256 of the data's JSON text and its {@code seq}, not the data. */
  static void subscribe(NodeScript n, String channel, JsonObject options, String print) {
    n.send(new JsonObject().put("op", "subscribe").put("channel", channel).put("print", print)
        .put("options", options == null ? new JsonObject() : options));
  }

  static String sha256(String text) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static JsonObject subscribed(NodeScript n, String channel) {
    return n.take("subscribed " + channel, j -> "subscribed".equals(j.getString("event")) && channel.equals(j.getString("channel")));
  }

  /** Runs a request command and waits for its result or failure line. */
  static JsonObject call(NodeScript n, JsonObject cmd) {
    String ref = "r" + refs.incrementAndGet();
    n.send(cmd.put("ref", ref));
    return n.take(cmd.getString("op") + " " + ref, j -> ref.equals(j.getString("ref")));
  }

  static JsonObject publication(NodeScript n, String channel) {
    return n.take("publication on " + channel, j -> "publication".equals(j.getString("event")) && channel.equals(j.getString("channel")));
  }

  /** A backend publication straight into the store (no client rate limit), fanned out like any other. */
  static long append(TestServer server, String channel, String event, Object data) {
    Publication p = new Publication(null, channel, 0, null, System.currentTimeMillis(), event, data, "server", "backend",
        Priority.NORMAL, List.of(), 0, false, null);
    JsonObject r = Await.result(server.sb.vertx().eventBus().<JsonObject>request(Addresses.STORE_APPEND,
        new JsonObject().put("publication", p.toJson())).map(m -> m.body()));
    return r.getLong("offset");
  }

  // --- connect, personal channel, token refresh --------------------------------------------------

  @Test
  void connectsWithATokenAndGetsItsPersonalChannel() {
    try (NodeScript n = driver()) {
      n.send(new JsonObject().put("op", "connect").put("url", url(s)).put("token", s.token("cf-u1", TestServer.allGrants())));
      JsonObject personal = n.event("serverSubscribed");
      assertEquals("user:cf-u1", personal.getString("channel"));
      assertTrue(personal.getBoolean("positioned"));
      assertNotNull(personal.getJsonObject("streamPosition").getString("epoch"));
      assertNotNull(n.event("connected").getString("client"));
      long offset = append(s, "user:cf-u1", "task.assigned", new JsonObject().put("task", 42));
      JsonObject pub = publication(n, "user:cf-u1");
      assertEquals(new JsonObject().put("task", 42), pub.getJsonObject("data"));
      assertEquals(offset, pub.getLong("offset"));
      assertEquals("task.assigned", pub.getJsonObject("tags").getString("event"));
      assertEquals("backend", pub.getJsonObject("info").getString("user"));
    }
  }

  @Test
  void invalidTokenIsTerminal() {
    try (NodeScript n = driver()) {
      n.send(new JsonObject().put("op", "connect").put("url", url(s)).put("token", "not-a-jwt"));
      JsonObject d = n.event("disconnected");
      assertEquals(3500, d.getInteger("code"), d.encode());
    }
  }

  /** An expired token at connect is error 109: centrifuge-js asks getToken for a fresh one and connects with it. */
  @Test
  void expiredTokenAtConnectIsRefreshedWithGetToken() {
    String shortLived = s.token(new JsonObject().put("subject", "cf-exp").put("ttl", 1).put("grants", TestServer.allGrants()));
    long exp = System.currentTimeMillis() / 1000 + 1;
    Await.until("token expired", Duration.ofSeconds(5), () -> System.currentTimeMillis() / 1000 > exp);
    try (NodeScript n = driver()) {
      n.send(new JsonObject().put("op", "connect").put("url", url(s)).put("token", shortLived).put("getToken", true));
      JsonObject err = n.event("error");
      assertEquals(109, err.getJsonObject("error").getInteger("code"), err.encode());
      n.event("getToken");
      n.send(new JsonObject().put("op", "token").put("token", s.token("cf-exp", TestServer.allGrants())));
      n.event("connected");
    }
  }

  /** Connect answers expires/ttl: the client refreshes through getToken before the token ends and stays connected. */
  @Test
  void tokenIsRefreshedBeforeItExpires() {
    String shortLived = s.token(new JsonObject().put("subject", "cf-ref").put("ttl", 2).put("grants", TestServer.allGrants()));
    try (NodeScript n = driver()) {
      n.send(new JsonObject().put("op", "connect").put("url", url(s)).put("token", shortLived).put("getToken", true));
      n.event("connected");
      n.event("getToken");
      n.send(new JsonObject().put("op", "token").put("token", s.token("cf-ref", TestServer.allGrants())));
      // well past the first token's expiry the same connection still works
      long until = System.currentTimeMillis() + 3000;
      Await.until("first token long expired", Duration.ofSeconds(10), () -> System.currentTimeMillis() > until);
      append(s, "user:cf-ref", "ping", new JsonObject().put("n", 1));
      assertEquals(1, publication(n, "user:cf-ref").getJsonObject("data").getInteger("n"));
      assertFalse(n.toString().contains("\"disconnected\""), n.toString());
    }
  }

  /** A refreshed token without the grant: the server unsubscribes (push code 2000) and the client stays unsubscribed. */
  @Test
  void refreshWithoutTheGrantUnsubscribes() {
    String first = s.token(new JsonObject().put("subject", "cf-regrant").put("ttl", 2)
        .put("grants", TestServer.grants("task:*", "subscribe", "chat:*", "subscribe")));
    try (NodeScript n = driver()) {
      n.send(new JsonObject().put("op", "connect").put("url", url(s)).put("token", first).put("getToken", true));
      n.event("connected");
      subscribe(n, "task:kept", null);
      subscribed(n, "task:kept");
      subscribe(n, "chat:dropped", null);
      subscribed(n, "chat:dropped");
      n.event("getToken");
      n.send(new JsonObject().put("op", "token").put("token", s.token("cf-regrant", TestServer.grants("task:*", "subscribe"))));
      JsonObject un = n.take("unsubscribed", j -> "unsubscribed".equals(j.getString("event")));
      assertEquals("chat:dropped", un.getString("channel"));
      assertEquals(2000, un.getInteger("code"), un.encode());
      append(s, "task:kept", "n", new JsonObject().put("still", true));
      assertTrue(publication(n, "task:kept").getJsonObject("data").getBoolean("still"));
    }
  }

  // --- subscribe, publish ------------------------------------------------------------------------

  @Test
  void subscribeAndPublishWithinGrants() {
    String token = s.token("cf-pub", TestServer.grants("task:*", "subscribe,publish", "feed:*", "subscribe,publish"));
    try (NodeScript n = connected(s, token)) {
      subscribe(n, "task:7", null);
      JsonObject sub = subscribed(n, "task:7");
      assertTrue(sub.getBoolean("recoverable"));
      JsonObject ok = call(n, new JsonObject().put("op", "publish").put("channel", "task:7").put("data", new JsonObject().put("status", "done")));
      assertEquals("result", ok.getString("event"), ok.encode());
      JsonObject pub = publication(n, "task:7");
      assertEquals("done", pub.getJsonObject("data").getString("status"));
      assertEquals("cf-pub", pub.getJsonObject("info").getString("user"));
      assertEquals(1L, pub.getLong("offset"));
      // no publish grant on chat:*, and clients may not publish in feed:*
      JsonObject refused = call(n, new JsonObject().put("op", "publish").put("channel", "chat:1").put("data", 1));
      assertEquals(103, refused.getJsonObject("error").getInteger("code"), refused.encode());
      JsonObject feed = call(n, new JsonObject().put("op", "publish").put("channel", "feed:1").put("data", 1));
      assertEquals(103, feed.getJsonObject("error").getInteger("code"), feed.encode());
      JsonObject unknown = call(n, new JsonObject().put("op", "publish").put("channel", "nope:1").put("data", 1));
      assertEquals(102, unknown.getJsonObject("error").getInteger("code"), unknown.encode());
    }
  }

  /** A refused subscription is a subscription error and the subscription stays down: no resubscribe loop. */
  @Test
  void permissionDeniedIsASubscriptionErrorWithoutRetry() {
    try (NodeScript n = connected(s, s.token("cf-denied", TestServer.grants("task:*", "subscribe")))) {
      // a retry, if there were one, would come within 5 ms
      JsonObject fastRetry = new JsonObject().put("minResubscribeDelay", 1).put("maxResubscribeDelay", 5);
      subscribe(n, "chat:secret", fastRetry);
      n.take("subscribing", j -> "subscribing".equals(j.getString("event")) && "chat:secret".equals(j.getString("channel")));
      JsonObject un = n.take("unsubscribed", j -> "unsubscribed".equals(j.getString("event")) && "chat:secret".equals(j.getString("channel")));
      assertEquals(103, un.getInteger("code"), un.encode());
      assertEquals("no subscribe grant for chat:secret", un.getString("reason"));
      // another subject's personal channel is refused too
      subscribe(n, "user:someone-else", fastRetry);
      JsonObject un2 = n.take("unsubscribed 2", j -> "unsubscribed".equals(j.getString("event")) && "user:someone-else".equals(j.getString("channel")));
      assertEquals(103, un2.getInteger("code"), un2.encode());
      // the connection is fine and nothing retries: a later subscribe is answered and neither refused one came back
      subscribe(n, "task:ok", null);
      subscribed(n, "task:ok");
      assertEquals("result", call(n, new JsonObject().put("op", "rpc").put("method", "echo").put("data", new JsonObject())).getString("event"));
      assertFalse(n.toString().contains("chat:secret"), n.toString());
    }
  }

  // --- presence, join/leave, history, rpc --------------------------------------------------------

  @Test
  void presenceStatsAndJoinLeave() {
    JsonObject info = new JsonObject().put("name", "Ada");
    String a = s.token(new JsonObject().put("subject", "cf-ada").put("info", info).put("grants", TestServer.allGrants()));
    String b = s.token("cf-bob", TestServer.allGrants());
    try (NodeScript na = connected(s, a); NodeScript nb = connected(s, b)) {
      subscribe(na, "chat:room1", new JsonObject().put("joinLeave", true));
      subscribed(na, "chat:room1");
      subscribe(nb, "chat:room1", null);
      subscribed(nb, "chat:room1");
      JsonObject join = na.take("join of bob", j -> "join".equals(j.getString("event")) && "cf-bob".equals(j.getJsonObject("info").getString("user")));
      assertNotNull(join.getJsonObject("info").getString("client"));
      Await.until("both present", () -> call(na, new JsonObject().put("op", "presenceStats").put("channel", "chat:room1"))
          .getJsonObject("result").getInteger("numClients") == 2);
      JsonObject stats = call(na, new JsonObject().put("op", "presenceStats").put("channel", "chat:room1")).getJsonObject("result");
      assertEquals(2, stats.getInteger("numUsers"));
      JsonObject presence = call(nb, new JsonObject().put("op", "presence").put("channel", "chat:room1")).getJsonObject("result");
      JsonObject clients = presence.getJsonObject("clients");
      assertEquals(2, clients.size(), presence.encode());
      boolean sawAda = false;
      for (String id : clients.fieldNames()) {
        JsonObject c = clients.getJsonObject(id);
        assertEquals(id, c.getString("client"));
        if ("cf-ada".equals(c.getString("user"))) {
          sawAda = true;
          assertEquals(info, c.getJsonObject("connInfo"));
        }
      }
      assertTrue(sawAda);
      // bob did not ask for join/leave: he gets none
      nb.send(new JsonObject().put("op", "unsubscribe").put("channel", "chat:room1"));
      JsonObject leave = na.take("leave of bob", j -> "leave".equals(j.getString("event")));
      assertEquals("cf-bob", leave.getJsonObject("info").getString("user"));
      assertFalse(nb.toString().contains("\"join\""), nb.toString());
    }
  }

  @Test
  void historyWithLimitSinceReverseAndTopPosition() {
    try (NodeScript n = connected(s, s.token("cf-hist", TestServer.allGrants()))) {
      for (int i = 1; i <= 5; i++) append(s, "hist:cf-h1", "n", new JsonObject().put("i", i));
      JsonObject top = call(n, new JsonObject().put("op", "history").put("channel", "hist:cf-h1")).getJsonObject("result");
      assertEquals(0, top.getJsonArray("publications").size(), top.encode());
      assertEquals(5L, top.getLong("offset"));
      String epoch = top.getString("epoch");
      assertFalse(epoch.isEmpty());
      JsonObject last2 = call(n, new JsonObject().put("op", "history").put("channel", "hist:cf-h1")
          .put("options", new JsonObject().put("limit", 2).put("reverse", true))).getJsonObject("result");
      assertEquals(List.of(5, 4), values(last2.getJsonArray("publications")));
      JsonObject since = call(n, new JsonObject().put("op", "history").put("channel", "hist:cf-h1")
          .put("options", new JsonObject().put("limit", 10).put("since", new JsonObject().put("offset", 3).put("epoch", epoch))))
          .getJsonObject("result");
      assertEquals(List.of(4, 5), values(since.getJsonArray("publications")));
      JsonObject lost = call(n, new JsonObject().put("op", "history").put("channel", "hist:cf-h1")
          .put("options", new JsonObject().put("limit", 10).put("since", new JsonObject().put("offset", 3).put("epoch", "gone"))));
      assertEquals(112, lost.getJsonObject("error").getInteger("code"), lost.encode());
      JsonObject denied;
      try (NodeScript m = connected(s, s.token("cf-hist2", TestServer.grants("hist:*", "subscribe")))) {
        denied = call(m, new JsonObject().put("op", "history").put("channel", "hist:cf-h1").put("options", new JsonObject().put("limit", 1)));
      }
      assertEquals(103, denied.getJsonObject("error").getInteger("code"), denied.encode());
    }
  }

  private static List<Integer> values(JsonArray pubs) {
    List<Integer> out = new ArrayList<>();
    for (Object o : pubs) out.add(((JsonObject) o).getJsonObject("data").getInteger("i"));
    return out;
  }

  @Test
  void rpcReachesTheAppAndUnknownMethodsAre104() {
    try (NodeScript n = connected(s, s.token("cf-rpc", TestServer.allGrants()))) {
      JsonObject r = call(n, new JsonObject().put("op", "rpc").put("method", "echo").put("data", new JsonObject().put("q", 1)));
      assertEquals(new JsonObject().put("q", 1), r.getJsonObject("result").getJsonObject("data").getJsonObject("got"), r.encode());
      assertEquals("cf-rpc", r.getJsonObject("result").getJsonObject("data").getString("subject"));
      JsonObject none = call(n, new JsonObject().put("op", "rpc").put("method", "nobody.home").put("data", new JsonObject()));
      assertEquals(104, none.getJsonObject("error").getInteger("code"), none.encode());
    }
  }

  // --- recovery ----------------------------------------------------------------------------------

  /** The transport dies while the backend keeps publishing: the client reconnects and gets every missed one, in order. */
  @Test
  void recoversEverythingMissedAfterTheTransportIsCut() {
    try (NodeScript n = connected(s, s.token("cf-rec", TestServer.allGrants()))) {
      subscribe(n, "task:cf-rec", null);
      subscribed(n, "task:cf-rec");
      append(s, "task:cf-rec", "n", new JsonObject().put("i", 1));
      assertEquals(1, publication(n, "task:cf-rec").getJsonObject("data").getInteger("i"));
      // the connection is cut and stays down while the backend publishes 10 more
      n.send(new JsonObject().put("op", "cut").put("hold", true));
      n.event("connecting");
      for (int i = 2; i <= 11; i++) append(s, "task:cf-rec", "n", new JsonObject().put("i", i));
      n.send(new JsonObject().put("op", "release"));
      n.event("connected");
      JsonObject again = subscribed(n, "task:cf-rec");
      assertTrue(again.getBoolean("wasRecovering"), again.encode());
      assertTrue(again.getBoolean("recovered"), again.encode());
      for (int i = 2; i <= 11; i++) {
        JsonObject p = publication(n, "task:cf-rec");
        assertEquals(i, p.getJsonObject("data").getInteger("i"), "in order, none missing");
        assertEquals(i, p.getLong("offset").intValue());
      }
      append(s, "task:cf-rec", "n", new JsonObject().put("i", 12));
      assertEquals(12, publication(n, "task:cf-rec").getJsonObject("data").getInteger("i"));
    }
  }

  /** A position in an epoch the server does not have (history lost): recovered false, the app knows to reload. */
  @Test
  void lostEpochIsNotRecovered() {
    try (NodeScript n = connected(s, s.token("cf-lost", TestServer.allGrants()))) {
      append(s, "task:lost", "n", new JsonObject().put("i", 1));
      subscribe(n, "task:lost", new JsonObject().put("since", new JsonObject().put("offset", 1).put("epoch", "an-epoch-long-gone")));
      JsonObject sub = subscribed(n, "task:lost");
      assertTrue(sub.getBoolean("wasRecovering"), sub.encode());
      assertFalse(sub.getBoolean("recovered"), sub.encode());
      append(s, "task:lost", "n", new JsonObject().put("i", 2));
      assertEquals(2, publication(n, "task:lost").getJsonObject("data").getInteger("i"));
    }
  }

  /** The personal (server-side) subscription recovers through connect.subs after a cut. */
  @Test
  void personalChannelRecoversAcrossReconnect() {
    try (NodeScript n = connected(s, s.token("cf-prec", TestServer.allGrants()))) {
      n.event("serverSubscribed");
      append(s, "user:cf-prec", "n", new JsonObject().put("i", 1));
      assertEquals(1, publication(n, "user:cf-prec").getJsonObject("data").getInteger("i"));
      n.send(new JsonObject().put("op", "cut").put("hold", true));
      n.event("connecting");
      for (int i = 2; i <= 4; i++) append(s, "user:cf-prec", "n", new JsonObject().put("i", i));
      n.send(new JsonObject().put("op", "release"));
      n.event("connected");
      JsonObject again = n.event("serverSubscribed");
      assertTrue(again.getBoolean("recovered"), again.encode());
      for (int i = 2; i <= 4; i++) assertEquals(i, publication(n, "user:cf-prec").getJsonObject("data").getInteger("i"));
    }
  }

  // --- one stream for every protocol -------------------------------------------------------------

  /** A native client and a centrifuge-js client on one channel see the same publications, in the same order. */
  @Test
  void nativeAndCentrifugeClientsSeeTheSameStream() {
    try (NodeScript n = connected(s, s.token("cf-mix", TestServer.allGrants()));
         WsClient nat = s.connect(s.token("native-mix", TestServer.allGrants()))) {
      subscribe(n, "task:mix", null);
      subscribed(n, "task:mix");
      nat.subscribe("task:mix");
      for (int i = 1; i <= 5; i++) {
        if (i % 2 == 0) {
          nat.result("publish", new JsonObject().put("channel", "task:mix").put("event", "from.native").put("data", new JsonObject().put("i", i)));
        } else {
          JsonObject r = call(n, new JsonObject().put("op", "publish").put("channel", "task:mix").put("data", new JsonObject().put("i", i)));
          assertEquals("result", r.getString("event"), r.encode());
        }
      }
      for (int i = 1; i <= 5; i++) {
        JsonObject p = publication(n, "task:mix");
        int k = i;
        Await.until("native client saw " + k, () -> nat.seen(f -> "task:mix".equals(f.getString("channel")) && f.getString("id") != null).size() >= k);
        JsonObject e = nat.seen(f -> "task:mix".equals(f.getString("channel")) && f.getString("id") != null).get(k - 1);
        assertEquals(i, p.getJsonObject("data").getInteger("i"));
        assertEquals(e.getJsonObject("data"), p.getJsonObject("data"));
        assertEquals(e.getLong("offset"), p.getLong("offset"));
        assertEquals(e.getString("event"), p.getJsonObject("tags").getString("event"));
      }
    }
  }

  // --- slow clients ------------------------------------------------------------------------------

  /**
   * A client that stops reading is cut with 3008 at its queue bound (256 KiB here) while another client on the same
   * channel keeps every message; the slow one reconnects by itself and recovers what it missed, in order.
   */
  @Test
  void slowClientIsCutWith3008AndRecoversWhileOthersKeepEverything() {
    String blob = "x".repeat(32 * 1024);
    try (NodeScript fast = connected(s, s.token("cf-fast", TestServer.allGrants()));
         NodeScript slow = connected(s, s.token("cf-slow", TestServer.allGrants()))) {
      subscribe(fast, "task:flood", null, "digest");
      subscribed(fast, "task:flood");
      subscribe(slow, "task:flood", null, "digest");
      subscribed(slow, "task:flood");
      slow.send(new JsonObject().put("op", "pause"));
      double before = s.metric("switchboard_disconnects_total{code=\"3008\"");
      int sent = 0;
      List<Integer> fastSeen = new ArrayList<>();
      while (sent < 1000 && s.metric("switchboard_disconnects_total{code=\"3008\"") < before + 1) {
        for (int k = 0; k < 10; k++) append(s, "task:flood", "blob", new JsonObject().put("seq", ++sent).put("blob", blob));
        while (fastSeen.size() < sent) fastSeen.add(publication(fast, "task:flood").getInteger("seq"));
      }
      assertEquals(before + 1, s.metric("switchboard_disconnects_total{code=\"3008\""), "the slow client was cut with 3008");
      assertTrue(sent < 1000, "cut after " + sent);
      slow.send(new JsonObject().put("op", "resume"));
      // it saw the 3008 close after reading its backlog, or the cut came first (transport closed): either way it reconnects
      JsonObject reconnecting = slow.take("reconnecting", j -> "connecting".equals(j.getString("event")) && j.getInteger("code") != 0);
      assertTrue(reconnecting.getInteger("code") == 3008 || reconnecting.getInteger("code") == 1, reconnecting.encode());
      slow.event("connected");
      JsonObject again = subscribed(slow, "task:flood");
      assertTrue(again.getBoolean("recovered"), again.encode());
      for (int k = 0; k < 3; k++) append(s, "task:flood", "blob", new JsonObject().put("seq", ++sent).put("blob", "y"));
      List<Integer> slowSeen = new ArrayList<>();
      while (slowSeen.size() < sent) slowSeen.add(publication(slow, "task:flood").getInteger("seq"));
      while (fastSeen.size() < sent) fastSeen.add(publication(fast, "task:flood").getInteger("seq"));
      List<Integer> all = new ArrayList<>();
      for (int i = 1; i <= sent; i++) all.add(i);
      assertEquals(all, fastSeen, "the fast client kept every message, in order");
      assertEquals(all, slowSeen, "the slow client got every message after recovery, in order, none twice");
      assertFalse(fast.toString().matches("(?s).*\"connecting\",\"code\":[1-9].*"), "the fast client was never disconnected: " + fast);
    }
  }

  // --- bidirectional emulation -------------------------------------------------------------------

  /**
   * With WebSocket disabled centrifuge-js uses HTTP streaming or SSE, its commands POSTed to /emulation: connect,
   * personal channel, subscribe, publish, presence, history and rpc work the same.
   */
  @Test
  void emulationTransportsWithWebSocketDisabled() {
    String base = "http://127.0.0.1:" + s.wsPort;
    for (String transport : List.of("http_stream", "sse")) {
      String subject = "cf-em-" + transport;
      String channel = "task:em-" + transport;
      JsonArray transports = new JsonArray().add(new JsonObject().put("transport", transport)
          .put("endpoint", base + (transport.equals("sse") ? "/connection/sse" : "/connection/http_stream")));
      try (NodeScript n = driver()) {
        n.send(new JsonObject().put("op", "connect").put("transports", transports).put("emulationEndpoint", base + "/emulation")
            .put("token", s.token(subject, TestServer.allGrants())));
        assertEquals(transport, n.event("connected").getString("transport"));
        append(s, "user:" + subject, "hello", new JsonObject().put("to", subject));
        assertEquals(subject, publication(n, "user:" + subject).getJsonObject("data").getString("to"));
        subscribe(n, channel, new JsonObject().put("delta", "fossil"));
        subscribed(n, channel);
        for (int i = 1; i <= 3; i++) {
          JsonObject r = call(n, new JsonObject().put("op", "publish").put("channel", channel)
              .put("data", new JsonObject().put("text", "hello from " + transport + " ".repeat(40)).put("i", i)));
          assertEquals("result", r.getString("event"), r.encode());
          JsonObject p = publication(n, channel);
          assertEquals(i, p.getJsonObject("data").getInteger("i"));
          assertEquals(subject, p.getJsonObject("info").getString("user"));
        }
        JsonObject hist = call(n, new JsonObject().put("op", "history").put("channel", channel).put("options", new JsonObject().put("limit", 10)));
        assertEquals(3, hist.getJsonObject("result").getJsonArray("publications").size(), hist.encode());
        JsonObject rpc = call(n, new JsonObject().put("op", "rpc").put("method", "echo").put("data", new JsonObject().put("via", transport)));
        assertEquals(transport, rpc.getJsonObject("result").getJsonObject("data").getJsonObject("got").getString("via"));
        Await.until("present", () -> call(n, new JsonObject().put("op", "presenceStats").put("channel", channel))
            .getJsonObject("result").getInteger("numClients") == 1);
      }
    }
  }
}
