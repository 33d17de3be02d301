package io.switchboard.launcher;

import static io.switchboard.launcher.GatewayHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gateway's HTTP APIs through real HTTP: REST for clients, the server API, tickets and long-poll, every error. */
class HttpApiTest {
  static TestServer s;
  static GatewayHttp h;

  @BeforeAll
  static void start() {
    s = TestServer.start(new JsonObject()
        .put("gateway", new JsonObject().put("publishRatePerSecond", 1).put("publishBurst", 3).put("ticketTtlMs", 400)
            .put("maxPollWaitSeconds", 30))
        .put("presence", new JsonObject().put("timeoutSeconds", 2).put("sweepIntervalMs", 100))
        .put("channels", new JsonObject().put("namespaces", new JsonObject()
            .put("feed", new JsonObject().put("clientPublish", false)))));
    h = new GatewayHttp(s);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  private static JsonObject pub(String event, Object data) {
    return new JsonObject().put("event", event).put("data", data);
  }

  // --- REST for clients ------------------------------------------------------------------------------

  @Test
  void restPublishHistoryPendingAcksPresence() {
    String token = s.token("rest1", TestServer.grants("task:*", "subscribe,publish,presence,history"));
    try (WsClient watcher = s.connect(s.token("w1", TestServer.allGrants()))) {
      watcher.subscribe("task:r1");
      JsonObject r = ok(h.post("/v1/channels/task:r1/publications", token,
          pub("task.created", new JsonObject().put("n", 1)).put("requiresAck", true).put("priority", "high").put("tags", new JsonArray().add("a"))));
      assertEquals(1L, r.getLong("offset"));
      JsonObject ev = watcher.event("task:r1", "task.created");
      assertEquals("rest1", ev.getJsonObject("source").getString("id"), "source stamped from the token");
      assertEquals(201, h.post("/v1/channels/task:r1/publications", token, pub("task.other", 2)).status());

      JsonObject hist = ok(h.get("/v1/channels/task:r1/history?priority=high&tags=a&limit=10", token));
      assertEquals(1, hist.getJsonArray("publications").size());
      assertEquals(2, ok(h.get("/v1/channels/task:r1/history", token)).getJsonArray("publications").size());
      JsonObject after1 = ok(h.get("/v1/channels/task:r1/history?since=1:" + r.getString("epoch"), token));
      assertEquals("task.other", after1.getJsonArray("publications").getJsonObject(0).getString("event"));

      JsonArray pending = ok(h.get("/v1/channels/task:r1/pending", token)).getJsonArray("publications");
      assertEquals(1, pending.size());
      JsonObject acked = ok(h.post("/v1/channels/task:r1/acks", token, new JsonObject().put("ids", new JsonArray().add(r.getString("id")))));
      assertEquals(r.getString("id"), acked.getJsonArray("acked").getString(0));
      assertEquals(0, ok(h.get("/v1/channels/task:r1/pending", token)).getJsonArray("publications").size());
      watcher.take("ack event", f -> "message.acked".equals(f.getString("event")));

      JsonArray members = ok(h.get("/v1/channels/task:r1/presence", token)).getJsonArray("members");
      assertEquals("w1", members.getJsonObject(0).getString("subject"));
    }
  }

  @Test
  void restErrorsHaveTheirStatusAndBody() {
    String token = s.token("rest2", TestServer.grants("task:*", "subscribe,publish,history"));
    GatewayHttp.Reply none = h.post("/v1/channels/task:e/publications", null, pub("x", 1));
    assertEquals(401, none.status());
    assertEquals("unauthorized", none.errorCode());
    assertTrue(none.body().getJsonObject("error").getString("message").contains("Bearer"));

    assertEquals(401, h.post("/v1/channels/task:e/publications", "not.a.token", pub("x", 1)).status());
    String shortLived = s.token(new JsonObject().put("subject", "rest2s").put("grants", TestServer.grants("task:*", "history")).put("ttl", 1));
    long expiry = System.currentTimeMillis() + 2100; // exp is whole seconds: past it for sure
    Await.until("token expiry", java.time.Duration.ofSeconds(5), () -> System.currentTimeMillis() > expiry);
    GatewayHttp.Reply expired = h.get("/v1/channels/task:e/history", shortLived);
    assertEquals(401, expired.status());
    assertEquals("token_expired", expired.errorCode());

    GatewayHttp.Reply denied = h.post("/v1/channels/chat:e/publications", token, pub("x", 1));
    assertEquals(403, denied.status());
    assertEquals("permission_denied", denied.errorCode());
    assertEquals(403, h.get("/v1/channels/task:e/presence", token).status(), "no presence grant");
    assertEquals(403, h.post("/v1/channels/feed:e/publications", s.token("rest2b", TestServer.allGrants()), pub("x", 1)).status());

    GatewayHttp.Reply bad = h.bearer(HttpMethod.POST, "/v1/channels/task:e/publications", token, "{not json");
    assertEquals(400, bad.status());
    assertEquals("bad_request", bad.errorCode());
    assertTrue(bad.body().getJsonObject("error").getString("message").startsWith("body: not valid JSON"), bad.body().encode());
    GatewayHttp.Reply noEvent = h.post("/v1/channels/task:e/publications", token, new JsonObject().put("data", 1));
    assertEquals(400, noEvent.status());
    assertTrue(noEvent.body().getJsonObject("error").getString("message").contains("event"));
    assertEquals(400, h.get("/v1/channels/task:e/history?limit=ten", token).status());
    assertEquals(400, h.get("/v1/channels/bad%20name/history", token).status());

    String atLimit = "{\"event\":\"x\",\"data\":\"" + "a".repeat(64 * 1024 - 23) + "\"}";
    assertEquals(64 * 1024, atLimit.length());
    assertEquals(201, h.bearer(HttpMethod.POST, "/v1/channels/task:big/publications", token, atLimit).status());
    String past = "{\"event\":\"x\",\"data\":\"" + "a".repeat(64 * 1024 - 22) + "\"}";
    GatewayHttp.Reply big = h.bearer(HttpMethod.POST, "/v1/channels/task:big/publications", token, past);
    assertEquals(413, big.status());
    assertEquals("too_large", big.errorCode());
  }

  @Test
  void restPublishesShareTheSubjectsRateLimit() {
    String token = s.token("rest3", TestServer.grants("task:*", "publish"));
    int ok = 0;
    GatewayHttp.Reply limited = null;
    for (int i = 0; i < 10 && limited == null; i++) {
      GatewayHttp.Reply r = h.post("/v1/channels/task:rl/publications", token, pub("x", i));
      if (r.status() == 201) ok++;
      else limited = r;
    }
    assertNotNull(limited, "the burst of 3 is the limit");
    assertTrue(ok >= 3 && ok <= 4, "burst 3 (plus at most one refilled): " + ok);
    assertEquals(429, limited.status());
    assertEquals("rate_limited", limited.errorCode());
    assertTrue(limited.body().getJsonObject("error").getLong("retryAfterMs") > 0);
    assertNotNull(limited.headers().get("retry-after"));
  }

  // --- server API ---------------------------------------------------------------------------------------

  @Test
  void serverApiPublishBroadcastHistoryPresenceBatch() {
    try (WsClient w = s.connect(s.token("w3", TestServer.allGrants()))) {
      w.subscribe("feed:s1", "feed:s2");
      JsonObject r = ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:s1").put("event", "alert")
          .put("data", new JsonObject().put("level", "high")).put("idempotencyKey", "k1")));
      assertEquals(1L, r.getLong("offset"));
      JsonObject ev = w.event("feed:s1", "alert");
      assertEquals("server", ev.getJsonObject("source").getString("type"));
      assertEquals("admin", ev.getJsonObject("source").getString("id"));
      // idempotent retry: same answer, nothing new
      assertEquals(r.getString("id"), ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:s1")
          .put("event", "alert").put("idempotencyKey", "k1"))).getString("id"));
      ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:s1").put("event", "said")
          .put("source", new JsonObject().put("type", "agent").put("id", "bot-7"))));
      assertEquals("bot-7", w.event("feed:s1", "said").getJsonObject("source").getString("id"));

      JsonObject b = ok(h.api("broadcast", TestServer.ADMIN_KEY, new JsonObject().put("channels", new JsonArray().add("feed:s1").add("feed:s2").add("bad name"))
          .put("event", "all")));
      JsonArray results = b.getJsonArray("results");
      assertEquals(3, results.size());
      assertNotNull(results.getJsonObject(0).getJsonObject("result"));
      assertEquals("bad_request", results.getJsonObject(2).getJsonObject("error").getString("code"));
      w.event("feed:s2", "all");

      assertEquals(3, ok(h.api("history", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:s1"))).getJsonArray("publications").size());
      JsonObject stats = ok(h.api("presence_stats", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:s1")));
      assertEquals(1, stats.getInteger("numClients"));
      assertEquals(1, stats.getInteger("numUsers"));
      assertEquals(1, ok(h.api("presence", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:s1"))).getJsonArray("members").size());

      JsonObject batch = ok(h.api("batch", TestServer.ADMIN_KEY, new JsonObject().put("commands", new JsonArray()
          .add(new JsonObject().put("method", "publish").put("params", new JsonObject().put("channel", "feed:s2").put("event", "b1")))
          .add(new JsonObject().put("method", "nope"))
          .add(new JsonObject().put("method", "publish").put("params", new JsonObject().put("channel", "feed:s2").put("event", "b2"))))));
      JsonArray replies = batch.getJsonArray("replies");
      assertEquals("method_not_found", replies.getJsonObject(1).getJsonObject("error").getString("code"));
      long o1 = replies.getJsonObject(0).getJsonObject("result").getLong("offset");
      assertEquals(o1 + 1, replies.getJsonObject(2).getJsonObject("result").getLong("offset"), "in order");
      w.event("feed:s2", "b1");
      w.event("feed:s2", "b2");

      JsonObject channels = ok(h.api("channels", TestServer.ADMIN_KEY, new JsonObject().put("prefix", "feed:")));
      assertEquals(1, channels.getJsonObject("channels").getJsonObject("feed:s1").getInteger("subscribers"));
      JsonObject info = ok(h.api("info", TestServer.ADMIN_KEY, new JsonObject()));
      assertEquals(1, info.getJsonArray("nodes").size());
      assertTrue(info.getInteger("connections") >= 1);
      assertEquals(2, info.getJsonArray("nodes").getJsonObject(0).getInteger("eventLoops"));
    }
  }

  @Test
  void serverApiSubscribesAndDisconnectsUsersLiveSessions() {
    try (WsClient u = s.connect(s.token("target", TestServer.grants("task:*", "subscribe")))) {
      ok(h.api("subscribe", TestServer.ADMIN_KEY, new JsonObject().put("user", "target").put("channel", "feed:srv")));
      JsonObject sub = u.take("subscribed push", f -> "subscribed".equals(f.getString("type")));
      assertEquals("feed:srv", sub.getString("channel"));
      ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", "feed:srv").put("event", "hello")));
      u.event("feed:srv", "hello");
      ok(h.api("unsubscribe", TestServer.ADMIN_KEY, new JsonObject().put("user", "target").put("channel", "feed:srv")));
      assertEquals("feed:srv", u.take("unsubscribed", f -> "unsubscribed".equals(f.getString("type"))).getString("channel"));
      ok(h.api("disconnect", TestServer.ADMIN_KEY, new JsonObject().put("user", "target")));
      assertEquals(4003, u.awaitClose());
    }
  }

  @Test
  void serverApiKeysAndErrors() {
    GatewayHttp.Reply none = h.api("publish", null, new JsonObject());
    assertEquals(401, none.status());
    assertEquals("unauthorized", none.errorCode());
    String clientToken = s.token("c9", TestServer.allGrants());
    GatewayHttp.Reply tokenInstead = h.call(HttpMethod.POST, "/api/publish", Map.of("Authorization", "Bearer " + clientToken),
        new JsonObject().put("channel", "feed:x").put("event", "e").encode());
    assertEquals(401, tokenInstead.status());
    assertTrue(tokenInstead.raw().contains("not a client token"));
    assertEquals(401, h.api("publish", "sbk_wrong", new JsonObject()).status());

    // an API key with a scoped server grant: publishes as itself on its channels only, no source override
    String serverKey = key(new JsonObject().put("subject", "billing").put("grants", TestServer.grants("feed:billing.*", "server")));
    JsonObject r = ok(h.api("publish", serverKey, new JsonObject().put("channel", "feed:billing.1").put("event", "paid")));
    JsonObject stored = ok(h.api("history", serverKey, new JsonObject().put("channel", "feed:billing.1"))).getJsonArray("publications").getJsonObject(0);
    assertEquals(r.getString("id"), stored.getString("id"));
    assertEquals("billing", stored.getJsonObject("source").getString("id"));
    assertEquals("service", stored.getJsonObject("source").getString("type"));
    assertEquals(403, h.api("publish", serverKey, new JsonObject().put("channel", "feed:other").put("event", "x")).status());
    assertEquals(403, h.api("publish", serverKey, new JsonObject().put("channel", "feed:billing.1").put("event", "x")
        .put("source", new JsonObject().put("type", "user").put("id", "someone"))).status());
    assertEquals(403, h.api("info", serverKey, new JsonObject()).status());
    String plainKey = key(new JsonObject().put("subject", "agent9").put("grants", TestServer.grants("task:*", "publish")));
    GatewayHttp.Reply notServer = h.api("publish", plainKey, new JsonObject().put("channel", "task:1").put("event", "x"));
    assertEquals(403, notServer.status());
    assertTrue(notServer.raw().contains("server capability"));

    assertEquals(404, h.api("frobnicate", TestServer.ADMIN_KEY, new JsonObject()).status());
    assertEquals(400, h.call(HttpMethod.POST, "/api/publish", Map.of("x-api-key", TestServer.ADMIN_KEY), "[1]").status());
  }

  static String key(JsonObject spec) {
    TestServer.Reply r = s.httpCall(HttpMethod.POST, "/v1/keys", TestServer.ADMIN_KEY, spec.encode());
    assertEquals(201, r.status(), r.raw());
    return r.body().getString("key");
  }

  // --- tickets and long-poll -----------------------------------------------------------------------------

  @Test
  void ticketsAreSingleUseAndExpire() {
    String token = s.token("t1", TestServer.grants("task:*", "subscribe"));
    assertEquals(401, h.post("/v1/tickets", null, null).status());
    String ticket = ok(h.post("/v1/tickets", token, null)).getString("ticket");
    assertFalse(ticket.contains(token));
    String url = "/v1/stream?channels=task:t1&ticket=" + ticket;
    assertEquals(200, h.streamStatus(url), "first use opens the stream");
    GatewayHttp.Reply reused = h.get(url, null);
    assertEquals(401, reused.status());
    assertEquals("unauthorized", reused.errorCode());
    assertTrue(reused.raw().contains("already used"), reused.raw());
    String late = ok(h.post("/v1/tickets", token, null)).getString("ticket");
    long expires = System.currentTimeMillis() + 400;
    Await.until("ticket expiry", () -> System.currentTimeMillis() > expires);
    assertEquals(401, h.get("/v1/sse?channels=task:t1&ticket=" + late, null).status());
    assertEquals(401, h.get("/v1/sse?channels=task:t1&ticket=nonsense", null).status());
    assertEquals(400, h.get("/v1/sse?ticket=x", null).status(), "channels first");

  }
}
