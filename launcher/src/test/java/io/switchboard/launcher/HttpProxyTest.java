package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The app backend's HTTP proxies against a real small HTTP backend started here: rpc, subscribe, publish and
 * connect decisions, typed errors, retries of idempotent calls only, timeouts and the circuit breaker.
 */
class HttpProxyTest {
  static Vertx backendVertx;
  static HttpServer backend;
  static TestServer s;
  /** What the backend does per path: "ok", "fail" (HTTP 500), "slow" (never answers in time). */
  static final Map<String, String> mode = new ConcurrentHashMap<>();
  static final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() {
    backendVertx = Vertx.vertx();
    int port = Ports.free();
    backend = Await.result(backendVertx.createHttpServer().requestHandler(HttpProxyTest::backend).listen(port, "127.0.0.1"));
    String base = "http://127.0.0.1:" + port;
    s = TestServer.start(new JsonObject().put("proxy", new JsonObject()
        .put("connectUrl", base + "/connect").put("rpcUrl", base + "/rpc").put("subscribeUrl", base + "/subscribe")
        .put("publishUrl", base + "/publish").put("subscribeNamespaces", "room").put("publishNamespaces", "room")
        .put("timeoutMs", 300).put("retries", 2).put("breakerFailures", 3).put("breakerResetMs", 1000))
        .put("gateway", new JsonObject().put("instances", 1)));
  }

  @AfterAll
  static void stop() {
    s.close();
    Await.result(backendVertx.close());
  }

  private static void backend(HttpServerRequest r) {
    String path = r.path();
    int n = calls.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    String m = mode.getOrDefault(path, "ok");
    if (m.equals("slow")) return; // never answers
    if (m.equals("fail") || (m.equals("failOnce") && n == 1)) {
      r.response().setStatusCode(500).end("boom");
      return;
    }
    r.body().onSuccess(b -> {
      JsonObject q = b.toJsonObject();
      JsonObject answer = switch (path) {
        case "/connect" -> "session=abc".equals(q.getJsonObject("headers").getString("cookie"))
            ? new JsonObject().put("result", new JsonObject().put("subject", "cookie-user").put("info", new JsonObject().put("name", "Cookie"))
                .put("grants", new JsonArray().add(new JsonObject().put("channel", "room:*").put("capabilities", new JsonArray().add("publish")))))
            : new JsonObject().put("error", new JsonObject().put("code", "unauthorized").put("message", "no such session"));
        case "/rpc" -> q.getString("method").equals("weather.get")
            ? new JsonObject().put("result", new JsonObject().put("city", q.getJsonObject("params").getString("city")).put("for", q.getString("subject")))
            : new JsonObject().put("error", new JsonObject().put("code", "bad_request").put("message", "no such forecast"));
        case "/subscribe" -> q.getString("channel").equals("room:42") && q.getString("subject").startsWith("member")
            ? new JsonObject().put("result", new JsonObject())
            : new JsonObject().put("error", new JsonObject().put("code", "not_a_member").put("message", "not a member of " + q.getString("channel")));
        case "/publish" -> q.getString("event").equals("forbidden")
            ? new JsonObject().put("error", new JsonObject().put("code", "permission_denied").put("message", "not that"))
            : new JsonObject().put("result", new JsonObject().put("data", new JsonObject().put("text", q.getValue("data")).put("checked", true)));
        default -> new JsonObject().put("error", new JsonObject().put("code", "not_found").put("message", path));
      };
      r.response().putHeader("content-type", "application/json").end(answer.encode());
    });
  }

  private static int calls(String path) {
    AtomicInteger n = calls.get(path);
    return n == null ? 0 : n.get();
  }

  @Test
  void subscribeProxyDecidesWhatTheGrantsDoNotCover() {
    try (WsClient member = s.connect(s.token("member-1", TestServer.grants("task:*", "subscribe")));
        WsClient outsider = s.connect(s.token("outsider", TestServer.grants("task:*", "subscribe")))) {
      JsonObject ok = member.subscribe("room:42").getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertTrue(ok.getBoolean("ok"), ok.encode());
      JsonObject no = outsider.subscribe("room:42").getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertEquals("permission_denied", no.getJsonObject("error").getString("code"));
      assertEquals("not a member of room:42", no.getJsonObject("error").getString("message"));
      // outside the proxied namespaces the grant decides alone, the backend is not asked
      int before = calls("/subscribe");
      JsonObject chat = outsider.subscribe("chat:1").getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertEquals("permission_denied", chat.getJsonObject("error").getString("code"));
      assertEquals(before, calls("/subscribe"));
    }
  }

  @Test
  void publishProxyRewritesOrRefuses() {
    try (WsClient c = s.connect(s.token("pub-1", TestServer.grants("room:*", "subscribe,publish")))) {
      c.subscribe("room:p");
      c.result("publish", new JsonObject().put("channel", "room:p").put("event", "msg").put("data", "hi"));
      JsonObject ev = c.event("room:p", "msg");
      assertEquals(new JsonObject().put("text", "hi").put("checked", true), ev.getJsonObject("data"));
      JsonObject refused = c.request("publish", new JsonObject().put("channel", "room:p").put("event", "forbidden"));
      assertEquals("permission_denied", refused.getJsonObject("error").getString("code"));
      assertEquals("not that", refused.getJsonObject("error").getString("message"));
    }
  }

  @Test
  void connectProxyGivesAnIdentityForACookie() {
    io.vertx.core.http.ClientWebSocket socket = s.ws.webSocket();
    try (WsClient c = new WsClient(socket, s.on)) {
      s.on.await(() -> socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(s.wsPort).setURI("/ws")
          .addHeader("Cookie", "session=abc")));
      JsonObject r = c.result("connect", new JsonObject());
      assertEquals("cookie-user", r.getString("subject"));
      JsonObject pub = c.result("publish", new JsonObject().put("channel", "room:c").put("event", "x").put("data", "y"));
      assertTrue(pub.containsKey("id"), "the backend's grants apply");
    }
    io.vertx.core.http.ClientWebSocket other = s.ws.webSocket();
    try (WsClient c = new WsClient(other, s.on)) {
      s.on.await(() -> other.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(s.wsPort).setURI("/ws")
          .addHeader("Cookie", "session=unknown")));
      JsonObject r = c.request("connect", new JsonObject());
      assertEquals("unauthorized", r.getJsonObject("error").getString("code"));
      assertEquals("no such session", r.getJsonObject("error").getString("message"));
    }
  }

  @Test
  void rpcRetriesBreakerAndTimeouts() {
    try (WsClient c = s.connect(s.token("rpc-1", TestServer.allGrants()))) {
      JsonObject w = c.result("weather.get", new JsonObject().put("city", "Oslo"));
      assertEquals("Oslo", w.getString("city"));
      assertEquals("rpc-1", w.getString("for"));
      assertEquals("bad_request", c.request("weather.nope", new JsonObject()).getJsonObject("error").getString("code"));

      // rpc is not idempotent: a failure is not retried
      mode.put("/rpc", "failOnce");
      calls.put("/rpc", new AtomicInteger());
      assertEquals("unavailable", c.request("weather.get", new JsonObject().put("city", "x")).getJsonObject("error").getString("code"));
      assertEquals(1, calls("/rpc"));
      mode.put("/rpc", "ok");
      c.result("weather.get", new JsonObject().put("city", "Bern")); // a success resets the failure count

      // subscribe is: one failure, then the retry succeeds
      mode.put("/subscribe", "failOnce");
      calls.put("/subscribe", new AtomicInteger());
      try (WsClient m = s.connect(s.token("member-2", TestServer.grants("task:*", "subscribe")))) {
        assertTrue(m.subscribe("room:42").getJsonObject("result").getJsonArray("channels").getJsonObject(0).getBoolean("ok"));
      }
      assertEquals(2, calls("/subscribe"));
      mode.put("/subscribe", "ok");

      // a backend that does not answer: unavailable after the timeout; three in a row open the circuit
      mode.put("/rpc", "slow");
      calls.put("/rpc", new AtomicInteger());
      for (int i = 0; i < 3; i++) {
        long t0 = System.currentTimeMillis();
        JsonObject e = c.request("weather.get", new JsonObject().put("city", "x")).getJsonObject("error");
        assertEquals("unavailable", e.getString("code"));
        assertTrue(System.currentTimeMillis() - t0 >= 250, "waited for the timeout");
      }
      long t0 = System.currentTimeMillis();
      JsonObject fast = c.request("weather.get", new JsonObject().put("city", "x")).getJsonObject("error");
      assertEquals("unavailable", fast.getString("code"));
      assertTrue(fast.getString("message").contains("not calling it"), fast.encode());
      assertTrue(System.currentTimeMillis() - t0 < 250, "open circuit: fails fast");
      assertEquals(3, calls("/rpc"), "the open circuit did not call the backend");

      // after the reset time one trial call goes through; the backend is back, the circuit closes
      mode.put("/rpc", "ok");
      long reopen = System.currentTimeMillis() + 1000;
      Await.until("breaker reset time", () -> System.currentTimeMillis() > reopen);
      assertEquals("Oslo", c.result("weather.get", new JsonObject().put("city", "Oslo")).getString("city"));
      assertEquals("Rome", c.result("weather.get", new JsonObject().put("city", "Rome")).getString("city"));
    }
  }
}
