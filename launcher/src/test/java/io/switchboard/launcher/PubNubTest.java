package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The unmodified {@code pubnub} JS SDK (8.x, what the seed pins, and 11.x, the newest that runs on Node 20) pointed at
 * Switchboard with {@code origin}: the agent flow of the PubNub migration, end to end.
 */
class PubNubTest {
  static final String KEY = "pn-app-key";
  static TestServer s;
  private static final AtomicInteger refs = new AtomicInteger();

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("apps", new JsonArray().add(new JsonObject().put("id", "default").put("key", KEY).put("secret", "pn-app-secret-0123")));
    // interval occupancy events every second (PubNub's default is 10 s): presence listeners see them quickly
    cfg.put("gateway", cfg.getJsonObject("gateway", new JsonObject()).copy().put("pubnubPresenceIntervalSeconds", 1));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
  }

  // --- helpers ----------------------------------------------------------------------------------

  static NodeScript sdk(String version, String uuid, String token, int port, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("PUBNUB", version, "ORIGIN", "127.0.0.1:" + port, "KEY", KEY, "UUID", uuid, "TOKEN", token));
    env.putAll(extra);
    NodeScript n = NodeScript.start("pubnub-driver.js", env);
    n.event("ready");
    return n;
  }

  static NodeScript sdk(String version, String uuid, String token) {
    return sdk(version, uuid, token, s.wsPort, Map.of());
  }

  static JsonObject call(NodeScript n, JsonObject cmd) {
    String ref = "r" + refs.incrementAndGet();
    n.send(cmd.put("ref", ref));
    return n.take(cmd.getString("op") + " " + ref, j -> ref.equals(j.getString("ref")));
  }

  static JsonObject ok(NodeScript n, JsonObject cmd) {
    JsonObject r = call(n, cmd);
    assertTrue(r.getBoolean("ok"), () -> cmd.encode() + " failed: " + r.encode() + "\n" + n);
    return r;
  }

  static JsonObject status(NodeScript n, String category) {
    return n.take("status " + category, j -> "status".equals(j.getString("event")) && category.equals(j.getString("category")), Duration.ofSeconds(20));
  }

  static JsonObject message(NodeScript n, String channel) {
    return n.take("message on " + channel, j -> "message".equals(j.getString("event")) && channel.equals(j.getString("channel")), Duration.ofSeconds(20));
  }

  static JsonObject presence(NodeScript n, String action, String uuid, Duration within) {
    return n.take(action + " of " + uuid, j -> "presence".equals(j.getString("event")) && action.equals(j.getString("action"))
        && uuid.equals(j.getString("uuid")), within);
  }

  static void subscribe(NodeScript n, boolean withPresence, String... channels) {
    n.send(new JsonObject().put("op", "subscribe").put("channels", new JsonArray(List.of((Object[]) channels))).put("withPresence", withPresence));
  }

  static JsonObject publish(NodeScript n, String channel, Object message) {
    return ok(n, new JsonObject().put("op", "publish").put("channel", channel).put("message", message));
  }

  static String agentToken(String subject, String cmd, String evt, int ttl) {
    JsonObject req = new JsonObject().put("subject", subject)
        .put("grants", TestServer.grants(cmd, "subscribe,presence,history", evt, "publish"));
    if (ttl > 0) req.put("ttl", ttl);
    return s.token(req);
  }

  // --- the seed flow ------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void seedFlow(String version) {
    String cmd = "task:cmd-" + version;
    String evt = "task:evt-" + version;
    String agent = "agent-" + version;
    String web = "web-" + version;
    try (NodeScript browser = sdk(version, web, s.token(web, TestServer.allGrants()));
        NodeScript a = sdk(version, agent, agentToken(agent, cmd, evt, 0))) {
      subscribe(browser, true, cmd, evt);
      status(browser, "PNConnectedCategory");
      subscribe(a, true, cmd);
      status(a, "PNConnectedCategory");
      presence(browser, "join", agent, Duration.ofSeconds(10));

      ok(a, new JsonObject().put("op", "setState").put("channels", new JsonArray().add(cmd)).put("state", new JsonObject().put("busy", true)));
      JsonObject st = presence(browser, "state-change", agent, Duration.ofSeconds(10));
      assertEquals(true, st.getJsonObject("state").getBoolean("busy"), st.encode());
      JsonObject got = ok(browser, new JsonObject().put("op", "getState").put("channels", new JsonArray().add(cmd)).put("uuid", agent));
      assertEquals(true, got.getJsonObject("result").getJsonObject("channels").getJsonObject(cmd).getBoolean("busy"), got.encode());

      JsonObject sent = publish(browser, cmd, new JsonObject().put("do", "build"));
      String tt = sent.getJsonObject("result").getString("timetoken", String.valueOf(sent.getJsonObject("result").getValue("timetoken")));
      JsonObject m = message(a, cmd);
      assertEquals("build", m.getJsonObject("message").getString("do"));
      assertEquals(web, m.getString("publisher"));
      assertEquals(tt, m.getString("timetoken"));
      assertEquals(17, m.getString("timetoken").length());

      ok(browser, new JsonObject().put("op", "signal").put("channel", cmd).put("message", "typing"));
      JsonObject sig = a.take("signal", j -> "signal".equals(j.getString("event")), Duration.ofSeconds(10));
      assertEquals("typing", sig.getString("message"));
      assertEquals(web, sig.getString("publisher"));

      publish(a, evt, new JsonObject().put("done", 1));
      assertEquals(1, message(browser, evt).getJsonObject("message").getInteger("done"));

      // token refresh at 80 %: setToken, and the next request carries it
      a.send(new JsonObject().put("op", "setToken").put("token", agentToken(agent, cmd, evt, 0)));
      a.event("tokenSet");
      publish(a, evt, new JsonObject().put("done", 2));
      assertEquals(2, message(browser, evt).getJsonObject("message").getInteger("done"));

      JsonObject here = ok(browser, new JsonObject().put("op", "hereNow").put("channels", new JsonArray().add(cmd)).put("includeState", true));
      assertTrue(here.getJsonObject("result").encode().contains(agent), here.encode());
      JsonObject where = ok(browser, new JsonObject().put("op", "whereNow").put("uuid", agent));
      assertEquals(new JsonArray().add(cmd), where.getJsonObject("result").getJsonArray("channels"), where.encode());

      a.send(new JsonObject().put("op", "unsubscribeAll"));
      presence(browser, "leave", agent, Duration.ofSeconds(10));
    }
  }

  // --- restore after a dropped connection -----------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void missedMessagesAreReplayedOnceAfterADroppedConnection(String version) {
    String cmd = "task:restore-" + version;
    String agent = "restore-" + version;
    TcpProxy proxy = TcpProxy.start(s.sb.vertx(), s.wsPort);
    try (NodeScript a = sdk(version, agent, agentToken(agent, cmd, "task:none", 0), proxy.port(), Map.of());
        NodeScript pub = sdk(version, "pub-" + version, s.token("pub-" + version, TestServer.allGrants()))) {
      subscribe(a, false, cmd);
      status(a, "PNConnectedCategory");
      publish(pub, cmd, 1);
      assertEquals(1, message(a, cmd).getInteger("message"));
      proxy.cut(true);
      // v8 (legacy manager) reports the drop at once; v11 (event engine) retries quietly
      if (version.equals("pubnub8")) status(a, "PNNetworkIssuesCategory");
      publish(pub, cmd, 2);
      publish(pub, cmd, 3);
      proxy.cut(false);
      assertEquals(2, message(a, cmd).getInteger("message"));
      assertEquals(3, message(a, cmd).getInteger("message"));
      publish(pub, cmd, 4);
      assertEquals(4, message(a, cmd).getInteger("message"));
      assertTrue(a.seen(j -> "message".equals(j.getString("event"))).isEmpty(), () -> "a message came twice: " + a);
    } finally {
      proxy.close();
    }
  }

  /**
   * An agent restarts and subscribes with the last timetoken it processed: what was published meanwhile comes once,
   * in order — from its session's buffer when the gateway still holds it (same uuid), from the store otherwise.
   */
  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void aRestartedAgentCatchesUpFromItsLastTimetoken(String version) {
    String cmd = "task:restart-" + version;
    String agent = "restart-" + version;
    String token = agentToken(agent, cmd, "task:none", 0);
    try (NodeScript pub = sdk(version, "rpub-" + version, s.token("rpub-" + version, TestServer.allGrants()))) {
      String last;
      try (NodeScript a = sdk(version, agent, token)) {
        subscribe(a, false, cmd);
        status(a, "PNConnectedCategory");
        publish(pub, cmd, "m1");
        last = message(a, cmd).getString("timetoken");
        a.send(new JsonObject().put("op", "crash"));
        a.waitFor(Duration.ofSeconds(10));
      }
      publish(pub, cmd, "m2");
      publish(pub, cmd, "m3");
      List<String> missed = new java.util.ArrayList<>(List.of("m2", "m3"));
      for (String uuid : List.of(agent, agent + "-fresh")) {
        try (NodeScript b = sdk(version, uuid, uuid.equals(agent) ? token : agentToken(uuid, cmd, "task:none", 0))) {
          b.send(new JsonObject().put("op", "subscribe").put("channels", new JsonArray().add(cmd)).put("timetoken", last));
          for (String m : missed) assertEquals(m, message(b, cmd).getString("message"), uuid);
          publish(pub, cmd, "live-" + uuid);
          missed.add("live-" + uuid);
          assertEquals("live-" + uuid, message(b, cmd).getString("message"), uuid);
          assertTrue(b.seen(j -> "message".equals(j.getString("event"))).isEmpty(), () -> "a message came twice: " + b);
        }
      }
    }
  }

  // --- access ---------------------------------------------------------------------------------------

  @Test
  void ungrantedChannelIsAccessDenied() {
    String agent = "denied-agent";
    try (NodeScript a = sdk("pubnub8", agent, agentToken(agent, "task:mine", "task:out", 0))) {
      subscribe(a, false, "task:secret");
      JsonObject st = status(a, "PNAccessDeniedCategory");
      assertEquals(403, st.getInteger("statusCode"), st.encode());
      JsonObject r = call(a, new JsonObject().put("op", "publish").put("channel", "task:secret").put("message", 1));
      assertFalse(r.getBoolean("ok"));
      assertEquals("PNAccessDeniedCategory", r.getString("category"), r.encode());
      assertEquals(403, r.getInteger("status"));
    }
  }

  @Test
  void expiredTokenIsDeniedAndSetTokenContinues() {
    String agent = "exp-agent";
    String evt = "task:exp-evt";
    try (NodeScript a = sdk("pubnub8", agent, agentToken(agent, "task:exp-cmd", evt, 1))) {
      JsonObject[] last = new JsonObject[1];
      try {
        Await.until("publish denied after expiry", Duration.ofSeconds(10), () -> {
          JsonObject r = call(a, new JsonObject().put("op", "publish").put("channel", evt).put("message", "probe"));
          last[0] = r;
          return !r.getBoolean("ok") && "PNAccessDeniedCategory".equals(r.getString("category"));
        });
      } catch (AssertionError e) {
        throw new AssertionError("last answer: " + last[0], e);
      }
      a.send(new JsonObject().put("op", "setToken").put("token", agentToken(agent, "task:exp-cmd", evt, 0)));
      a.event("tokenSet");
      publish(a, evt, 1);
    }
  }

  /** A subscribe refused because the token ran out: setToken and reconnect, and what was published meanwhile comes. */
  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void anExpiredSubscribeResumesAfterSetTokenAndReconnect(String version) {
    String cmd = "task:exp-sub-" + version;
    String agent = "exp-sub-" + version;
    try (NodeScript a = sdk(version, agent, agentToken(agent, cmd, "task:none", 0));
        NodeScript pub = sdk(version, "exp-pub-" + version, s.token("exp-pub-" + version, TestServer.allGrants()))) {
      // the short token is minted once the SDK is up (a busy machine may take seconds to start Node), then used at once
      a.send(new JsonObject().put("op", "setToken").put("token", agentToken(agent, cmd, "task:none", 4)));
      a.event("tokenSet");
      subscribe(a, false, cmd);
      status(a, "PNConnectedCategory");
      // the 403: v8's legacy loop reports access denied; v11's event engine stops receiving
      status(a, version.equals("pubnub8") ? "PNAccessDeniedCategory" : "PNDisconnectedUnexpectedlyCategory");
      publish(pub, cmd, "while-expired");
      a.send(new JsonObject().put("op", "setToken").put("token", agentToken(agent, cmd, "task:none", 0)));
      a.event("tokenSet");
      a.send(new JsonObject().put("op", "reconnect"));
      assertEquals("while-expired", message(a, cmd).getString("message"));
      publish(pub, cmd, "after");
      assertEquals("after", message(a, cmd).getString("message"));
      assertTrue(a.seen(j -> "message".equals(j.getString("event"))).isEmpty(), () -> "a message came twice: " + a);
    }
  }

  // --- presence timeout, history, native interop --------------------------------------------------

  @Test
  void aSilentClientTimesOut() throws Exception {
    String ch = "task:pres-timeout";
    try (NodeScript browser = sdk("pubnub8", "watcher", s.token("watcher", TestServer.allGrants()))) {
      subscribe(browser, true, ch);
      status(browser, "PNConnectedCategory");
      // a crashed agent: one subscribe with a 5 s presence timeout, then nothing
      String token = s.token("crashed", TestServer.allGrants());
      HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.wsPort
          + "/v2/subscribe/" + KEY + "/" + URLEncoder.encode(ch, StandardCharsets.UTF_8) + "/0?tt=0&heartbeat=5&uuid=crashed&auth=" + token)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(r.headers().firstValue("content-type").orElse("").contains("json"));
      assertTrue(r.body().startsWith("{\"t\":{\"t\":\""), r.body());
      presence(browser, "join", "crashed", Duration.ofSeconds(10));
      presence(browser, "timeout", "crashed", Duration.ofSeconds(15));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void historyAndFetchMessages(String version) {
    String ch = "hist:pn-" + version;
    try (NodeScript a = sdk(version, "hist-" + version, s.token("hist-" + version, TestServer.allGrants()))) {
      for (int i = 1; i <= 3; i++) publish(a, ch, new JsonObject().put("n", i));
      JsonObject h = ok(a, new JsonObject().put("op", "history").put("channel", ch)).getJsonObject("result");
      JsonArray msgs = h.getJsonArray("messages");
      assertEquals(3, msgs.size(), h.encode());
      assertEquals(1, msgs.getJsonObject(0).getJsonObject("entry").getInteger("n"));
      JsonObject f = ok(a, new JsonObject().put("op", "fetchMessages").put("channels", new JsonArray().add(ch))).getJsonObject("result");
      JsonArray items = f.getJsonObject("channels").getJsonArray(ch);
      assertEquals(3, items.size(), f.encode());
      assertEquals(3, items.getJsonObject(2).getJsonObject("message").getInteger("n"));
      assertEquals("hist-" + version, items.getJsonObject(0).getString("uuid"));
      String second = items.getJsonObject(1).getString("timetoken");
      JsonObject older = ok(a, new JsonObject().put("op", "fetchMessages").put("channels", new JsonArray().add(ch)).put("start", second)).getJsonObject("result");
      assertEquals(1, older.getJsonObject("channels").getJsonArray(ch).size(), older.encode());
    }
  }

  /**
   * Publish {@code meta} reaches subscribers as {@code userMetadata} and {@code fetchMessages({includeMeta})}; a client
   * with a {@code filterExpression} gets only the messages whose meta (or publisher) pass it, in order;
   * {@code storeInHistory: false} is delivered live and never stored; {@code replicate: false} is accepted.
   */
  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void metaFilterExpressionAndStoreInHistory(String version) {
    String ch = "task:pn-meta-" + version;
    String filter = "meta.priority == 'high' || (meta.tag LIKE 'urgent*' && uuid != 'nobody')";
    try (NodeScript pub = sdk(version, "meta-pub-" + version, s.token("meta-pub-" + version, TestServer.allGrants()));
        NodeScript all = sdk(version, "meta-all-" + version, s.token("meta-all-" + version, TestServer.allGrants()));
        NodeScript some = sdk(version, "meta-some-" + version, s.token("meta-some-" + version, TestServer.allGrants()), s.wsPort,
            Map.of("FILTER", filter))) {
      subscribe(all, false, ch);
      status(all, "PNConnectedCategory");
      subscribe(some, false, ch);
      status(some, "PNConnectedCategory");
      JsonObject[] metas = {new JsonObject().put("priority", "low"), new JsonObject().put("priority", "high"),
          new JsonObject().put("tag", "Urgent-fix"), null, new JsonObject().put("priority", "high")};
      for (int i = 0; i < metas.length; i++) {
        JsonObject cmd = new JsonObject().put("op", "publish").put("channel", ch).put("message", new JsonObject().put("n", i + 1));
        if (metas[i] != null) cmd.put("meta", metas[i]);
        if (i == 4) cmd.put("norep", true);
        ok(pub, cmd);
      }
      for (int i = 0; i < metas.length; i++) {
        JsonObject m = message(all, ch);
        assertEquals(i + 1, m.getJsonObject("message").getInteger("n"), m.encode());
        if (metas[i] != null) assertEquals(metas[i], m.getJsonObject("meta"), m.encode());
        else assertFalse(m.containsKey("meta") && m.getValue("meta") != null, m.encode());
      }
      // the filtered client: 2, 3, 5 in order (1 and 4 were published before 5 and never came)
      for (int n : new int[] {2, 3, 5}) assertEquals(n, message(some, ch).getJsonObject("message").getInteger("n"));
      assertTrue(some.seen(j -> "message".equals(j.getString("event"))).isEmpty(), some::toString);

      // storeInHistory: false is delivered, and not stored
      ok(pub, new JsonObject().put("op", "publish").put("channel", ch).put("message", new JsonObject().put("n", 6))
          .put("meta", new JsonObject().put("priority", "high")).put("store", false));
      assertEquals(6, message(all, ch).getJsonObject("message").getInteger("n"));
      assertEquals(6, message(some, ch).getJsonObject("message").getInteger("n"));
      JsonObject f = ok(all, new JsonObject().put("op", "fetchMessages").put("channels", new JsonArray().add(ch))
          .put("includeMeta", true)).getJsonObject("result");
      JsonArray items = f.getJsonObject("channels").getJsonArray(ch);
      assertEquals(5, items.size(), f.encode());
      for (int i = 0; i < 5; i++) {
        JsonObject it = items.getJsonObject(i);
        assertEquals(i + 1, it.getJsonObject("message").getInteger("n"), f.encode());
        if (metas[i] != null) assertEquals(metas[i], it.getJsonObject("meta"), f.encode());
      }
    }
  }

  /** {@code -pnpres} listeners see the occupancy in join and leave events and an {@code interval} event each period. */
  @ParameterizedTest
  @ValueSource(strings = {"pubnub8", "pubnub11"})
  void occupancyInJoinLeaveAndIntervalEvents(String version) {
    String ch = "chat:pn-occ-" + version;
    String watcher = "occ-watch-" + version;
    String other = "occ-other-" + version;
    try (NodeScript w = sdk(version, watcher, s.token(watcher, TestServer.allGrants()));
        NodeScript o = sdk(version, other, s.token(other, TestServer.allGrants()))) {
      subscribe(w, true, ch);
      status(w, "PNConnectedCategory");
      assertEquals(1, presence(w, "join", watcher, Duration.ofSeconds(10)).getInteger("occupancy"));
      subscribe(o, false, ch);
      status(o, "PNConnectedCategory");
      assertEquals(2, presence(w, "join", other, Duration.ofSeconds(10)).getInteger("occupancy"));
      JsonObject interval = w.take("interval with occupancy 2", j -> "presence".equals(j.getString("event"))
          && "interval".equals(j.getString("action")) && Integer.valueOf(2).equals(j.getInteger("occupancy")), Duration.ofSeconds(10));
      assertEquals(ch, interval.getString("channel"), interval.encode());
      o.send(new JsonObject().put("op", "unsubscribeAll"));
      assertEquals(1, presence(w, "leave", other, Duration.ofSeconds(10)).getInteger("occupancy"));
      w.take("interval with occupancy 1", j -> "presence".equals(j.getString("event"))
          && "interval".equals(j.getString("action")) && Integer.valueOf(1).equals(j.getInteger("occupancy")), Duration.ofSeconds(10));
    }
  }

  @Test
  void nativePublishReachesTheSdkAndBack() {
    String ch = "chat:pn-native";
    try (NodeScript a = sdk("pubnub8", "pn-side", s.token("pn-side", TestServer.allGrants()));
        WsClient n = s.connect(s.token("native-side", TestServer.allGrants()))) {
      assertFalse(n.subscribe(ch).containsKey("error"));
      subscribe(a, false, ch);
      status(a, "PNConnectedCategory");
      n.result("publish", new JsonObject().put("channel", ch).put("event", "message").put("data", new JsonObject().put("from", "native")));
      JsonObject m = message(a, ch);
      assertEquals("native", m.getJsonObject("message").getString("from"));
      assertEquals("native-side", m.getString("publisher"));
      publish(a, ch, new JsonObject().put("from", "pubnub"));
      JsonObject e = n.take("pubnub message", f -> "event".equals(f.getString("type")) && f.getJsonObject("data") != null
          && "pubnub".equals(f.getJsonObject("data").getString("from")));
      assertEquals("pn-side", e.getJsonObject("source").getString("id"));
    }
  }
}
