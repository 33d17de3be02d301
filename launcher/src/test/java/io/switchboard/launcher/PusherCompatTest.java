package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Unmodified pusher-js 8 (Node build) and the `pusher` server library against Switchboard, changing nothing but
 * wsHost/wsPort and host/port: public, private, presence and cache channels, authorization through a real HTTP
 * endpoint with a Bearer header, client events, sign-in and send-to-user, terminate, the HTTP API and its errors,
 * and one channel space shared with native clients.
 */
class PusherCompatTest {
  static final String KEY = "app-key";
  static final String SECRET = "app-secret-123";
  static final String BEARER = "good-bearer";
  private static TestServer s;
  private static NodeScript app;
  private static String appUrl;
  private final List<NodeScript> clients = new ArrayList<>();

  @BeforeAll
  static void start() {
    s = TestServer.start(new JsonObject().put("apps", new JsonArray()
        .add(new JsonObject().put("id", "default").put("key", KEY).put("secret", SECRET).put("clientEvents", true))
        .add(new JsonObject().put("id", "other").put("key", "other-key").put("secret", "other-secret-1"))
        .add(new JsonObject().put("id", "quota").put("key", "quota-key").put("secret", "quota-secret-1").put("maxConnections", 2))));
    app = NodeScript.start("pusher-app-server.js", Map.of("APP_ID", "default", "APP_KEY", KEY, "APP_SECRET", SECRET,
        "HTTP_PORT", Integer.toString(s.wsPort), "APP_BEARER", BEARER));
    appUrl = "http://127.0.0.1:" + app.event("listening").getInteger("port");
  }

  @AfterAll
  static void stop() {
    if (app != null) app.close();
    if (s != null) s.close();
  }

  @AfterEach
  void closeClients() {
    clients.forEach(NodeScript::close);
  }

  private NodeScript client(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("APP_KEY", KEY, "WS_PORT", Integer.toString(s.wsPort), "AUTH_URL", appUrl,
        "APP_BEARER", BEARER));
    env.putAll(extra);
    NodeScript c = NodeScript.start("pusher-client.js", env);
    clients.add(c);
    c.event("connected");
    return c;
  }

  private NodeScript client() {
    return client(Map.of());
  }

  static void cmd(NodeScript c, String cmd, Object... kv) {
    JsonObject o = new JsonObject().put("cmd", cmd);
    for (int i = 0; i < kv.length; i += 2) o.put((String) kv[i], kv[i + 1]);
    c.send(o);
  }

  static JsonObject subscribe(NodeScript c, String channel) {
    cmd(c, "subscribe", "channel", channel);
    return c.take("subscribed to " + channel, j -> channel.equals(j.getString("channel"))
        && ("subscribed".equals(j.getString("event")) || "subscription_error".equals(j.getString("event"))));
  }

  /** The app server calls the `pusher` library; the answer's status and raw body. */
  private static JsonObject appCall(String path, JsonObject body) {
    return s.on.await(() -> s.http.request(io.vertx.core.http.HttpMethod.POST, Integer.parseInt(appUrl.substring(appUrl.lastIndexOf(':') + 1)), "127.0.0.1", path)
        .compose(r -> r.send(body.encode())).compose(r -> r.body())).toJsonObject();
  }

  static JsonObject message(NodeScript c, String channel, String name) {
    return c.take(name + " on " + channel, j -> "message".equals(j.getString("event")) && channel.equals(j.getString("channel"))
        && name.equals(j.getString("name")));
  }

  @Test
  void publicChannelGetsTriggeredEventsAndTriggerAnswersExactlyAnEmptyObject() {
    NodeScript c = client();
    assertEquals("subscribed", subscribe(c, "news").getString("event"));
    JsonObject r = appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("news")).put("name", "headline")
        .put("data", new JsonObject().put("title", "hello")));
    assertEquals(200, r.getInteger("status"), r.encode());
    assertEquals("{}", r.getString("body"));
    assertEquals(new JsonObject().put("title", "hello"), message(c, "news", "headline").getJsonObject("data"));
  }

  @Test
  void privateChannelsNeedTheAppServersSignatureAndA403BecomesASubscriptionError() {
    NodeScript ok = client();
    assertEquals("subscribed", subscribe(ok, "private-session-1").getString("event"));
    NodeScript refused = client(Map.of("APP_BEARER", "wrong"));
    JsonObject e = subscribe(refused, "private-session-1");
    assertEquals("subscription_error", e.getString("event"));
    assertEquals(403, e.getInteger("status"));
    appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("private-session-1")).put("name", "new_message")
        .put("data", new JsonObject().put("n", 1)));
    assertEquals(1, message(ok, "private-session-1", "new_message").getJsonObject("data").getInteger("n"));
    assertTrue(refused.seen(j -> "message".equals(j.getString("event"))).isEmpty());
  }

  @Test
  void presenceMembersAreUsersAddedOnTheirFirstConnectionAndRemovedOnTheirLast() {
    String ch = "presence-room-" + System.nanoTime();
    NodeScript ada1 = client(Map.of("AUTH_QUERY", "?user=ada"));
    JsonObject first = subscribe(ada1, ch);
    assertEquals(new JsonObject().put("count", 1).put("ids", new JsonArray().add("ada")), first.getJsonObject("members"));
    NodeScript bob = client(Map.of("AUTH_QUERY", "?user=bob"));
    assertEquals(2, subscribe(bob, ch).getJsonObject("members").getInteger("count"));
    assertEquals("bob", ada1.event("member_added").getString("id"));
    NodeScript ada2 = client(Map.of("AUTH_QUERY", "?user=ada"));
    assertEquals(2, subscribe(ada2, ch).getJsonObject("members").getInteger("count"), "ada's second connection is the same member");
    // ada's first connection leaves: ada is still there
    cmd(ada1, "disconnect");
    cmd(bob, "members", "channel", ch);
    JsonObject m = bob.event("members");
    assertEquals(2, m.getInteger("count"));
    cmd(ada2, "disconnect");
    JsonObject removed = bob.event("member_removed");
    assertEquals("ada", removed.getString("id"));
    assertEquals(1, removed.getJsonObject("members").getInteger("count"));
    assertTrue(bob.seen(j -> "member_added".equals(j.getString("event"))).isEmpty(), "no member_added for ada's second connection");
    assertTrue(bob.seen(j -> "member_removed".equals(j.getString("event"))).isEmpty(), "one member_removed for ada");
  }

  @Test
  void clientEventsReachOthersButNotTheSenderAndCarryTheUserIdOnPresence() {
    String priv = "private-chat-" + System.nanoTime();
    String pres = "presence-chat-" + System.nanoTime();
    NodeScript a = client(Map.of("AUTH_QUERY", "?user=amy"));
    NodeScript b = client(Map.of("AUTH_QUERY", "?user=ben"));
    for (String ch : List.of(priv, pres)) {
      subscribe(a, ch);
      cmd(b, "subscribe", "channel", ch, "events", new JsonArray().add("client-wave"));
      b.take("subscribed to " + ch, j -> ch.equals(j.getString("channel")) && "subscribed".equals(j.getString("event")));
    }
    cmd(a, "client-event", "channel", priv, "name", "client-typing", "data", new JsonObject().put("on", true));
    assertEquals(true, message(b, priv, "client-typing").getJsonObject("data").getBoolean("on"));
    cmd(a, "client-event", "channel", pres, "name", "client-wave", "data", new JsonObject());
    assertEquals("amy", message(b, pres, "client-wave").getString("userId"));
    // a marker after: if the sender had got its own events, they would be there before it
    appCall("/trigger", new JsonObject().put("channels", new JsonArray().add(priv)).put("name", "marker").put("data", "x"));
    message(a, priv, "marker");
    assertTrue(a.seen(j -> "message".equals(j.getString("event")) && j.getString("name").startsWith("client-")).isEmpty(),
        "client events are not echoed to the sender");
  }

  @Test
  void signInAndSendToUser() {
    NodeScript c = client(Map.of("AUTH_QUERY", "?user=ursula"));
    cmd(c, "signin", "bind", "to-user");
    assertEquals("ursula", c.event("signed_in").getString("userId"));
    Await.until("send-to-user delivered", Duration.ofSeconds(10), () -> {
      appCall("/send-to-user", new JsonObject().put("user", "ursula").put("name", "to-user").put("data", new JsonObject().put("hi", 1)));
      return !c.seen(j -> "user_message".equals(j.getString("event"))).isEmpty();
    });
    assertEquals(1, c.event("user_message").getJsonObject("data").getInteger("hi"));
  }

  @Test
  void terminateConnectionsClosesTheUsersConnections() {
    NodeScript c = client(Map.of("AUTH_QUERY", "?user=tess"));
    cmd(c, "signin");
    c.event("signed_in");
    JsonObject r = appCall("/terminate", new JsonObject().put("user", "tess"));
    assertEquals(200, r.getInteger("status"), r.encode());
    c.take("disconnected", j -> "state".equals(j.getString("event")) && !"connected".equals(j.getString("current")));
  }

  @Test
  void cacheChannelsReplayTheLastEventOrSayCacheMiss() {
    String ch = "cache-prices-" + System.nanoTime();
    NodeScript first = client();
    subscribe(first, ch);
    first.event("cache_miss");
    appCall("/trigger", new JsonObject().put("channels", new JsonArray().add(ch)).put("name", "price").put("data", new JsonObject().put("p", 1)));
    appCall("/trigger", new JsonObject().put("channels", new JsonArray().add(ch)).put("name", "price").put("data", new JsonObject().put("p", 2)));
    message(first, ch, "price");
    message(first, ch, "price");
    NodeScript late = client();
    subscribe(late, ch);
    assertEquals(2, message(late, ch, "price").getJsonObject("data").getInteger("p"));
    assertTrue(late.seen(j -> "cache_miss".equals(j.getString("event"))).isEmpty());
  }

  @Test
  void nativeAndPusherClientsShareOneChannelSpace() {
    NodeScript p = client();
    subscribe(p, "shared-feed");
    try (WsClient n = s.connect(s.token("native-1", TestServer.allGrants()))) {
      n.subscribe("shared-feed");
      n.result("publish", new JsonObject().put("channel", "shared-feed").put("event", "from-native").put("data", new JsonObject().put("a", 1)));
      assertEquals(1, message(p, "shared-feed", "from-native").getJsonObject("data").getInteger("a"));
      appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("shared-feed")).put("name", "from-pusher").put("data", "plain"));
      JsonObject e = n.event("shared-feed", "from-pusher");
      assertEquals("plain", e.getString("data"));
      assertTrue(e.getLong("offset") > 0, "a triggered event is a stored publication: " + e.encode());
    }
  }

  @Test
  void anotherAppsChannelsAreIsolated() {
    NodeScript mine = client();
    subscribe(mine, "iso-news");
    NodeScript theirs = client(Map.of("APP_KEY", "other-key"));
    subscribe(theirs, "iso-news");
    appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("iso-news")).put("name", "only-default").put("data", "x"));
    message(mine, "iso-news", "only-default");
    appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("iso-news")).put("name", "marker").put("data", "x"));
    message(mine, "iso-news", "marker");
    assertTrue(theirs.seen(j -> "message".equals(j.getString("event"))).isEmpty());
  }

  @Test
  void afterTheServerDropsTheTcpConnectionPusherJsReconnectsAndResubscribes() {
    try (TcpProxy proxy = TcpProxy.start(s.clientVertx, s.wsPort)) {
      NodeScript c = client(Map.of("WS_PORT", Integer.toString(proxy.port())));
      subscribe(c, "private-reconnect");
      appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("private-reconnect")).put("name", "before").put("data", "1"));
      message(c, "private-reconnect", "before");
      proxy.cut(true);
      proxy.cut(false);
      c.take("reconnected", j -> "connected".equals(j.getString("event")));
      // pusher-js subscribes again by itself (with a new socket id, so a new signature from the auth endpoint)
      c.take("resubscribed", j -> "subscribed".equals(j.getString("event")) && "private-reconnect".equals(j.getString("channel")));
      appCall("/trigger", new JsonObject().put("channels", new JsonArray().add("private-reconnect")).put("name", "after").put("data", "2"));
      assertEquals("2", message(c, "private-reconnect", "after").getValue("data").toString());
    }
  }

  @Test
  void unknownAppKeyIsRefusedWith4001() {
    NodeScript c = NodeScript.start("pusher-client.js", Map.of("APP_KEY", "no-such-key", "WS_PORT", Integer.toString(s.wsPort), "AUTH_URL", appUrl));
    clients.add(c);
    JsonObject e = c.event("connection_error");
    assertEquals(4001, e.getJsonObject("error").getJsonObject("data").getInteger("code"), e.encode());
    assertFalse(c.seen(j -> "connected".equals(j.getString("event"))).size() > 0);
  }

  /** A raw Pusher 7 connection to {@code /app/<key>} and its first event (connection_established or pusher:error). */
  private static WsClient pusherSocket(String key) {
    io.vertx.core.http.ClientWebSocket socket = s.ws.webSocket();
    WsClient c = new WsClient(socket, s.on);
    s.on.await(() -> socket.connect(new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1").setPort(s.wsPort)
        .setURI("/app/" + key + "?protocol=7")));
    return c;
  }

  private static JsonObject firstEvent(WsClient c) {
    return c.take("pusher hello", j -> j.getString("event", "").startsWith("pusher:"));
  }

  @Test
  void anAppsMaxConnectionsIsEnforcedAt4004AndASlotIsFreedOnClose() {
    try (WsClient a = pusherSocket("quota-key"); WsClient b = pusherSocket("quota-key")) {
      assertEquals("pusher:connection_established", firstEvent(a).getString("event"));
      assertEquals("pusher:connection_established", firstEvent(b).getString("event"));
      try (WsClient over = pusherSocket("quota-key")) {
        JsonObject e = firstEvent(over);
        assertEquals("pusher:error", e.getString("event"), e.encode());
        assertEquals(4004, new JsonObject(e.getString("data")).getInteger("code"), e.encode());
        assertEquals(4004, over.awaitClose());
      }
      // another app is not affected by this one's quota
      try (WsClient other = pusherSocket("other-key")) {
        assertEquals("pusher:connection_established", firstEvent(other).getString("event"));
      }
      a.close();
      // the closed connection's slot comes back once the server has seen the close
      io.switchboard.common.test.Await.until("a quota slot is free again", () -> {
        try (WsClient again = pusherSocket("quota-key")) {
          return "pusher:connection_established".equals(firstEvent(again).getString("event"));
        }
      });
    }
  }

  @Test
  void httpApiChannelInfoUsersAndErrors() {
    String pres = "presence-info-" + System.nanoTime();
    NodeScript a = client(Map.of("AUTH_QUERY", "?user=ivy"));
    subscribe(a, pres);
    subscribe(a, "info-public");
    JsonObject users = new JsonObject(appCall("/get", new JsonObject().put("path", "/channels/" + pres + "/users")).getString("body"));
    assertEquals(new JsonArray().add(new JsonObject().put("id", "ivy")), users.getJsonArray("users"));
    JsonObject info = new JsonObject(appCall("/get", new JsonObject().put("path", "/channels/info-public")
        .put("params", new JsonObject().put("info", "subscription_count"))).getString("body"));
    assertEquals(true, info.getBoolean("occupied"));
    assertEquals(1, info.getInteger("subscription_count"));
    JsonObject list = new JsonObject(appCall("/get", new JsonObject().put("path", "/channels")
        .put("params", new JsonObject().put("filter_by_prefix", "presence-info-").put("info", "user_count"))).getString("body"));
    assertEquals(1, list.getJsonObject("channels").getJsonObject(pres).getInteger("user_count"));
    JsonObject notPresence = appCall("/get", new JsonObject().put("path", "/channels/info-public/users"));
    assertEquals(400, notPresence.getInteger("status"), notPresence.encode());
    JsonObject batch = appCall("/batch", new JsonObject().put("batch", new JsonArray()
        .add(new JsonObject().put("channel", "info-public").put("name", "b1").put("data", "1"))
        .add(new JsonObject().put("channel", "info-public").put("name", "b2").put("data", "2"))));
    assertEquals("{}", batch.getString("body"));
    message(a, "info-public", "b1");
    message(a, "info-public", "b2");
  }
}
