package io.switchboard.launcher;

import static io.switchboard.launcher.GatewayHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-app HTTP: the server API acts on the app its {@code X-Switchboard-App} header names (admin key on any app,
 * API keys on the default app, unknown app 404), and each app's clients reach their own app's HTTP proxies, with
 * per-namespace overrides. Clients of a second app are real Pusher protocol clients (the app is chosen by key).
 */
class HttpAppsTest {
  static final String KEY1 = "apps-key-one";
  static final String KEY2 = "apps-key-two";
  static final String SECRET1 = "apps-secret-one";
  static final String SECRET2 = "apps-secret-two";
  static Vertx backendVertx;
  static TestServer s;
  static GatewayHttp h;
  /** What each backend path received, in order. */
  static final Map<String, List<JsonObject>> received = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() {
    backendVertx = Vertx.vertx();
    int port = Ports.free();
    HttpServer backend = Await.result(backendVertx.createHttpServer().requestHandler(HttpAppsTest::backend).listen(port, "127.0.0.1"));
    String base = "http://127.0.0.1:" + backend.actualPort();
    s = TestServer.start(new JsonObject()
        // the global section: the default app's backend
        .put("proxy", new JsonObject().put("publishUrl", base + "/one/publish"))
        .put("apps", new JsonArray()
            .add(new JsonObject().put("id", "default").put("key", KEY1).put("secret", SECRET1).put("clientEvents", true))
            .add(new JsonObject().put("id", "two").put("key", KEY2).put("secret", SECRET2).put("clientEvents", true)
                .put("proxies", new JsonObject().put("publishUrl", base + "/two/publish").put("timeoutMs", 2000)
                    .put("namespaces", new JsonObject()
                        .put("private-audit", new JsonObject().put("publishUrl", base + "/two/audit"))
                        .put("private-free", new JsonObject().put("publishUrl", "")))))));
    h = new GatewayHttp(s);
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
    if (backendVertx != null) Await.result(backendVertx.close());
  }

  /** Allows every publication, marking which backend saw it. */
  private static void backend(HttpServerRequest r) {
    r.body().onSuccess(b -> {
      JsonObject q = b.toJsonObject();
      received.computeIfAbsent(r.path(), p -> new CopyOnWriteArrayList<>()).add(q);
      JsonObject data = new JsonObject().put("text", q.getValue("data")).put("by", r.path());
      r.response().putHeader("content-type", "application/json").end(new JsonObject().put("result", new JsonObject().put("data", data)).encode());
    });
  }

  private static List<JsonObject> at(String path) {
    return received.getOrDefault(path, List.of());
  }

  // --- a Pusher protocol client over a bare WebSocket -------------------------------------------------

  static final class PusherClient implements AutoCloseable {
    final RawWs ws;
    final String socketId;
    final String key;
    final String secret;

    PusherClient(String key, String secret) throws Exception {
      this.key = key;
      this.secret = secret;
      ws = new RawWs(s.wsPort, 0, "/app/" + key + "?protocol=7&client=js&version=8.4.0");
      JsonObject est = next("pusher:connection_established");
      socketId = new JsonObject(est.getString("data")).getString("socket_id");
    }

    JsonObject next(String event) throws Exception {
      while (true) {
        RawWs.Frame f = ws.read();
        if (f.opcode() != 1) continue;
        JsonObject j = new JsonObject(f.text());
        if (event.equals(j.getString("event"))) return j;
        if ("pusher:error".equals(j.getString("event"))) throw new AssertionError("pusher error waiting for " + event + ": " + j.encode());
      }
    }

    /** The next application event (not pusher: / pusher_internal:). */
    JsonObject nextEvent() throws Exception {
      while (true) {
        RawWs.Frame f = ws.read();
        if (f.opcode() != 1) continue;
        JsonObject j = new JsonObject(f.text());
        String e = j.getString("event", "");
        if (!e.startsWith("pusher:") && !e.startsWith("pusher_internal:")) return j;
      }
    }

    void subscribe(String channel) throws Exception {
      JsonObject data = new JsonObject().put("channel", channel);
      if (channel.startsWith("private-")) data.put("auth", key + ":" + hmac(secret, socketId + ":" + channel));
      ws.sendText(new JsonObject().put("event", "pusher:subscribe").put("data", data).encode());
      next("pusher_internal:subscription_succeeded");
    }

    void clientEvent(String channel, String event, Object data) throws Exception {
      ws.sendText(new JsonObject().put("event", event).put("channel", channel).put("data", data).encode());
    }

    @Override
    public void close() throws Exception {
      ws.close();
    }
  }

  static String hmac(String secret, String text) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static GatewayHttp.Reply api(String app, String command, String key, JsonObject params) {
    Map<String, String> headers = new java.util.HashMap<>(Map.of("x-api-key", key));
    if (app != null) headers.put("x-switchboard-app", app);
    return h.call(HttpMethod.POST, "/api/" + command, headers, params.encode());
  }

  // --- the server API per app -------------------------------------------------------------------------

  @Test
  void serverApiPublishesIntoTheAppItNames() throws Exception {
    try (PusherClient one = new PusherClient(KEY1, SECRET1); PusherClient two = new PusherClient(KEY2, SECRET2)) {
      one.subscribe("apps-news");
      two.subscribe("apps-news");
      JsonObject r = ok(api("two", "publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news").put("event", "for-two")
          .put("data", new JsonObject().put("n", 2))));
      assertTrue(r.getLong("offset") > 0, r.encode());
      ok(api(null, "publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news").put("event", "for-one").put("data", 1)));
      // each subscriber gets exactly its own app's publications, in order
      JsonObject e2 = two.nextEvent();
      assertEquals("for-two", e2.getString("event"), e2.encode());
      assertEquals(new JsonObject().put("n", 2), new JsonObject(e2.getString("data")));
      assertEquals("for-one", one.nextEvent().getString("event"));
      ok(api("two", "publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news").put("event", "second").put("data", 2)));
      ok(api(null, "publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news").put("event", "second").put("data", 1)));
      JsonObject s2 = two.nextEvent();
      assertEquals("second", s2.getString("event"), s2.encode());
      assertEquals("2", s2.getString("data"));
      JsonObject s1 = one.nextEvent();
      assertEquals("second", s1.getString("event"), s1.encode());
      assertEquals("1", s1.getString("data"));

      // history, presence and channels are the app's own (app-local names, app-scoped storage)
      JsonArray h2 = ok(api("two", "history", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news"))).getJsonArray("publications");
      assertEquals(List.of("for-two", "second"), h2.stream().map(o -> ((JsonObject) o).getString("event")).toList());
      assertEquals("apps-news", h2.getJsonObject(0).getString("channel"));
      JsonArray h1 = ok(api(null, "history", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news"))).getJsonArray("publications");
      assertEquals(List.of("for-one", "second"), h1.stream().map(o -> ((JsonObject) o).getString("event")).toList());
      JsonObject channels = ok(api("two", "channels", TestServer.ADMIN_KEY, new JsonObject().put("prefix", "apps-new")));
      assertEquals(1, channels.getJsonObject("channels").getJsonObject("apps-news").getInteger("subscribers"), channels.encode());
      // a batch acts on the request's app
      JsonObject batch = ok(api("two", "batch", TestServer.ADMIN_KEY, new JsonObject().put("commands", new JsonArray()
          .add(new JsonObject().put("method", "publish").put("params", new JsonObject().put("channel", "apps-news").put("event", "batched").put("data", 3))))));
      assertTrue(batch.getJsonArray("replies").getJsonObject(0).containsKey("result"), batch.encode());
      JsonObject b3 = two.nextEvent();
      assertEquals("batched", b3.getString("event"), b3.encode());
      assertEquals("3", b3.getString("data"));
    }
  }

  @Test
  void unknownAppIs404AndOnlyTheAdminKeyActsOnOtherApps() {
    GatewayHttp.Reply unknown = api("nope", "publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "apps-news").put("event", "x"));
    assertEquals(404, unknown.status(), unknown.raw());
    assertEquals("not_found", unknown.errorCode());
    assertTrue(unknown.body().getJsonObject("error").getString("message").contains("unknown app 'nope'"), unknown.raw());
    TestServer.Reply made = s.httpCall(HttpMethod.POST, "/v1/keys", TestServer.ADMIN_KEY,
        new JsonObject().put("subject", "backend-1").put("grants", TestServer.grants("*", "server")).encode());
    assertEquals(201, made.status(), made.raw());
    String serverKey = made.body().getString("key");
    GatewayHttp.Reply other = api("two", "publish", serverKey, new JsonObject().put("channel", "apps-news").put("event", "x"));
    assertEquals(403, other.status(), other.raw());
    assertEquals("permission_denied", other.errorCode());
    // the same key on its default app (header absent or naming it) works
    ok(api(null, "publish", serverKey, new JsonObject().put("channel", "keyed").put("event", "x")));
    ok(api("default", "publish", serverKey, new JsonObject().put("channel", "keyed").put("event", "x")));
    // an unknown key learns nothing about apps: 401/403 before the app is looked at
    GatewayHttp.Reply bad = api("nope", "publish", "sbk_not_a_key", new JsonObject().put("channel", "apps-news").put("event", "x"));
    assertTrue(bad.status() == 401 || bad.status() == 403, bad.raw());
  }

  // --- proxies per app and namespace ------------------------------------------------------------------

  @Test
  void eachAppsClientsReachTheirOwnAppsBackend() throws Exception {
    try (PusherClient one = new PusherClient(KEY1, SECRET1); PusherClient two = new PusherClient(KEY2, SECRET2);
        PusherClient twoWatcher = new PusherClient(KEY2, SECRET2); PusherClient oneWatcher = new PusherClient(KEY1, SECRET1)) {
      for (PusherClient c : List.of(one, oneWatcher)) c.subscribe("private-room");
      for (PusherClient c : List.of(two, twoWatcher)) {
        c.subscribe("private-room");
        c.subscribe("private-audit:1");
        c.subscribe("private-free:1");
      }
      two.clientEvent("private-room", "client-said", "from two");
      JsonObject seen = new JsonObject(twoWatcher.next("client-said").getString("data"));
      assertEquals(new JsonObject().put("text", "from two").put("by", "/two/publish"), seen);
      JsonObject call = at("/two/publish").get(0);
      assertEquals("two", call.getString("app"));
      assertEquals("private-room", call.getString("channel"));

      one.clientEvent("private-room", "client-said", "from one");
      assertEquals(new JsonObject().put("text", "from one").put("by", "/one/publish"),
          new JsonObject(oneWatcher.next("client-said").getString("data")));
      assertEquals(1, at("/one/publish").size());
      assertTrue(!at("/one/publish").get(0).containsKey("app"), "the default app's calls name no app");

      // namespace overrides: private-audit has its own URL; private-free has none (published as sent)
      two.clientEvent("private-audit:1", "client-audit", "checked");
      assertEquals("/two/audit", new JsonObject(twoWatcher.next("client-audit").getString("data")).getString("by"));
      two.clientEvent("private-free:1", "client-free", "as sent");
      assertEquals("as sent", twoWatcher.next("client-free").getString("data"));
      assertEquals(1, at("/two/publish").size(), "app two's default URL saw only its private-room event");
      assertEquals(1, at("/two/audit").size());
      assertEquals(1, at("/one/publish").size(), "app one's backend never saw app two's clients");
    }
  }
}
