package io.switchboard.launcher;

import static io.switchboard.launcher.GatewayHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The receive-only fallbacks: long-poll, SSE (the eventsource npm client), NDJSON streaming, and the agent flow without WebSocket. */
class HttpStreamsTest {
  static TestServer s;
  static GatewayHttp h;

  @BeforeAll
  static void start() {
    s = TestServer.start(new JsonObject()
        .put("gateway", new JsonObject().put("maxPollWaitSeconds", 30).put("maxConnectionsPerSubject", 2))
        .put("presence", new JsonObject().put("timeoutSeconds", 2).put("sweepIntervalMs", 100)));
    h = new GatewayHttp(s);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  private static String enc(String v) {
    return URLEncoder.encode(v, StandardCharsets.UTF_8);
  }

  private static JsonObject publish(String token, String channel, String event) {
    return ok(h.post("/v1/channels/" + channel + "/publications", token, new JsonObject().put("event", event).put("data", event)));
  }

  /** A poll started now, answered later (the test publishes meanwhile). */
  private static CompletableFuture<GatewayHttp.Reply> pollAsync(String path, String token) {
    return CompletableFuture.supplyAsync(() -> h.get(path, token));
  }

  @Test
  void longPollAnswersAtOnceWhenNewerElseHoldsUntilAPublication() {
    String token = s.token("lp1", TestServer.grants("task:*", "subscribe,publish"));
    JsonObject first = publish(token, "task:lp", "one");
    // nothing newer than now: wait=0 answers empty with the current position
    JsonObject empty = ok(h.get("/v1/poll?channels=task:lp&wait=0", token));
    assertEquals(0, empty.getJsonArray("events").size());
    assertEquals(first.getLong("offset"), empty.getJsonObject("positions").getJsonObject("task:lp").getLong("offset"));
    String since = empty.getString("since");

    // held: answered by the next publication, with it and the next position
    CompletableFuture<GatewayHttp.Reply> held = pollAsync("/v1/poll?channels=task:lp&wait=20&since=" + enc(since), token);
    io.switchboard.common.test.Await.until("the poll is held", () -> s.sb != null && heldPolls() >= 1);
    JsonObject two = publish(token, "task:lp", "two");
    JsonObject answer = ok(held.join());
    assertEquals(1, answer.getJsonArray("events").size());
    assertEquals("two", answer.getJsonArray("events").getJsonObject(0).getString("event"));
    assertEquals(two.getLong("offset"), answer.getJsonObject("positions").getJsonObject("task:lp").getLong("offset"));

    // newer than the position: at once, what was missed in order — a publication stored but still on its way to
    // this event loop may come in the next answer (docs/http.md), never twice and never out of order
    publish(token, "task:lp", "three");
    publish(token, "task:lp", "four");
    List<String> names = new ArrayList<>();
    JsonObject missed = ok(h.get("/v1/poll?channels=task:lp&wait=20&since=" + enc(answer.getString("since")), token));
    for (Object o : missed.getJsonArray("events")) names.add(((JsonObject) o).getString("event"));
    assertTrue(!names.isEmpty(), "answered at once with what was newer: " + missed.encode());
    if (names.size() < 2) {
      missed = ok(h.get("/v1/poll?channels=task:lp&wait=20&since=" + enc(missed.getString("since")), token));
      for (Object o : missed.getJsonArray("events")) names.add(((JsonObject) o).getString("event"));
    }
    assertEquals(List.of("three", "four"), names);

    // a position that is gone: recovered:false at once
    JsonObject gone = ok(h.get("/v1/poll?channels=task:lp&wait=20&since=" + enc("1:deadbeef:task:lp"), token));
    assertEquals(false, gone.getJsonArray("channels").getJsonObject(0).getBoolean("recovered"));

    // a held poll that times out answers empty
    long t0 = System.currentTimeMillis();
    JsonObject timedOut = ok(h.get("/v1/poll?channels=task:lp&wait=1&since=" + enc(missed.getString("since")), token));
    assertEquals(0, timedOut.getJsonArray("events").size());
    assertTrue(System.currentTimeMillis() - t0 >= 900);

    assertEquals(400, h.get("/v1/poll?channels=task:lp&wait=31", token).status());
    assertEquals(400, h.get("/v1/poll?wait=1", token).status());
    assertEquals(401, h.get("/v1/poll?channels=task:lp&wait=1", null).status());
    JsonObject denied = ok(h.get("/v1/poll?channels=chat:no&wait=5", token));
    assertEquals("permission_denied", denied.getJsonArray("channels").getJsonObject(0).getJsonObject("error").getString("code"));
  }

  /** An SSE line carrying a stored publication (presence events have no offset). */
  private static boolean stored(JsonObject j) {
    return "event".equals(j.getString("type")) && j.getJsonObject("data").getValue("offset") != null;
  }

  private static JsonArray storedOnly(JsonArray events) {
    JsonArray out = new JsonArray();
    for (Object o : events) if (((JsonObject) o).getValue("offset") != null) out.add(o);
    return out;
  }

  private static double heldPolls() {
    return s.metric("switchboard_connections");
  }

  @Test
  void sseWithTheEventsourceClientResumesFromLastEventId() {
    String token = s.token("sse1", TestServer.grants("task:*", "subscribe,publish"));
    String ticket = ok(h.post("/v1/tickets", token, null)).getString("ticket");
    String base = "http://127.0.0.1:" + s.wsPort + "/v1/sse?channels=task:sse";
    String lastId;
    try (NodeScript es = NodeScript.start("sse.js", Map.of("URL", base + "&ticket=" + enc(ticket), "STOP_AFTER", "2"))) {
      es.take("open", j -> "open".equals(j.getString("event")));
      JsonObject subscribed = es.take("subscribed", j -> "subscribed".equals(j.getString("type")));
      assertTrue(subscribed.getJsonObject("data").getJsonArray("channels").getJsonObject(0).getBoolean("ok"));
      publish(token, "task:sse", "a");
      publish(token, "task:sse", "b");
      JsonObject a = es.take("a", j -> "event".equals(j.getString("type")) && "a".equals(j.getJsonObject("data").getString("event")));
      JsonObject b = es.take("b", j -> "event".equals(j.getString("type")) && "b".equals(j.getJsonObject("data").getString("event")));
      assertTrue(a.getString("lastEventId").endsWith(":task:sse"), a.encode());
      lastId = b.getString("lastEventId");
      assertEquals(b.getJsonObject("data").getLong("offset") + ":" + b.getJsonObject("data").getString("epoch") + ":task:sse", lastId);
      es.take("closed", j -> "closed".equals(j.getString("event")));
    }
    // missed while away
    publish(token, "task:sse", "c");
    publish(token, "task:sse", "d");
    // reusing the ticket is refused
    try (NodeScript reuse = NodeScript.start("sse.js", Map.of("URL", base + "&ticket=" + enc(ticket)))) {
      assertEquals(401, reuse.take("error", j -> "error".equals(j.getString("event"))).getInteger("status"));
    }
    String ticket2 = ok(h.post("/v1/tickets", token, null)).getString("ticket");
    try (NodeScript es = NodeScript.start("sse.js", Map.of("URL", base + "&ticket=" + enc(ticket2), "LAST_EVENT_ID", lastId))) {
      JsonObject subscribed = es.take("subscribed", j -> "subscribed".equals(j.getString("type")));
      assertEquals(true, subscribed.getJsonObject("data").getJsonArray("channels").getJsonObject(0).getBoolean("recovered"));
      JsonObject c = es.take("c", HttpStreamsTest::stored);
      assertEquals("c", c.getJsonObject("data").getString("event"), "recovered in order, nothing before it");
      assertEquals("d", es.take("d", HttpStreamsTest::stored).getJsonObject("data").getString("event"));
      publish(token, "task:sse", "e");
      assertEquals("e", es.take("e", HttpStreamsTest::stored).getJsonObject("data").getString("event"));
    }
  }

  /**
   * The agent flow with no WebSocket (issue §4): an API key → token → pending catch-up → acks → long-poll with
   * presence heartbeats → answers published over REST; then WebSocket comes back and recovers from the poll's
   * position with nothing lost and nothing twice.
   */
  @Test
  void agentFlowWithoutWebSocketThenBackToWebSocket() {
    String key = s.httpCall(HttpMethod.POST, "/v1/keys", TestServer.ADMIN_KEY, new JsonObject().put("subject", "agent-42")
        .put("grants", new JsonArray()
            .add(new JsonObject().put("channel", "agent:{sub}.cmd").put("capabilities", new JsonArray().add("subscribe").add("history").add("presence")))
            .add(new JsonObject().put("channel", "agent:{sub}.evt").put("capabilities", new JsonArray().add("publish").add("subscribe"))))
        .encode()).body().getString("key");
    String token = s.httpCall(HttpMethod.POST, "/v1/tokens", key, "{}").body().getString("token");
    String cmd = "agent:agent-42.cmd";
    String evt = "agent:agent-42.evt";
    try (WsClient owner = s.connect(s.token("owner", TestServer.allGrants()))) {
      owner.subscribe(cmd, evt);
      // commands sent while the agent was away (by a backend over the server API)
      for (String c : List.of("c1", "c2")) {
        ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", cmd).put("event", c).put("requiresAck", true)));
      }
      JsonArray pending = ok(h.get("/v1/channels/" + cmd + "/pending", token)).getJsonArray("publications");
      assertEquals(2, pending.size());
      List<String> processed = new ArrayList<>();
      JsonArray ids = new JsonArray();
      for (Object o : pending) {
        processed.add(((JsonObject) o).getString("event"));
        ids.add(((JsonObject) o).getString("id"));
      }
      ok(h.post("/v1/channels/" + cmd + "/acks", token, new JsonObject().put("ids", ids)));
      ok(h.post("/v1/presence/heartbeat", token, new JsonObject().put("channels", new JsonArray().add(cmd))));
      owner.take("agent present", f -> "presence.join".equals(f.getString("event")) && "agent-42".equals(f.getJsonObject("data").getString("subject")));

      // position after the catch-up, then long-poll for new commands
      JsonObject last = pending.getJsonObject(1);
      String since = last.getLong("offset") + ":" + last.getString("epoch") + ":" + cmd;
      CompletableFuture<GatewayHttp.Reply> held = pollAsync("/v1/poll?channels=" + cmd + "&wait=20&since=" + enc(since), token);
      ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", cmd).put("event", "c3").put("requiresAck", true)));
      JsonObject answer = ok(held.join());
      // a poll may be answered by a presence event first: poll on from its position, as a client does
      while (storedOnly(answer.getJsonArray("events")).isEmpty()) {
        answer = ok(h.get("/v1/poll?channels=" + cmd + "&wait=20&since=" + enc(answer.getString("since")), token));
      }
      JsonObject c3 = storedOnly(answer.getJsonArray("events")).getJsonObject(0);
      processed.add(c3.getString("event"));
      ok(h.post("/v1/channels/" + cmd + "/acks", token, new JsonObject().put("ids", new JsonArray().add(c3.getString("id")))));
      ok(h.post("/v1/channels/" + evt + "/publications", token, new JsonObject().put("event", "done").put("data", "c3")
          .put("correlationId", c3.getString("id"))));
      JsonObject done = owner.event(evt, "done");
      assertEquals("agent-42", done.getJsonObject("source").getString("id"));
      ok(h.post("/v1/presence/heartbeat", token, new JsonObject().put("channels", new JsonArray().add(cmd))));

      // while switching, another command arrives; WebSocket recovers from the poll's position
      ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", cmd).put("event", "c4").put("requiresAck", true)));
      JsonObject pos = answer.getJsonObject("positions").getJsonObject(cmd);
      try (WsClient agent = s.connect(token)) {
        JsonObject sub = agent.subscribe(new JsonObject().put("channel", cmd)
            .put("recover", new JsonObject().put("offset", pos.getLong("offset")).put("epoch", pos.getString("epoch"))));
        assertTrue(sub.getJsonObject("result").getJsonArray("channels").getJsonObject(0).getBoolean("recovered"), sub.encode());
        JsonObject c4 = agent.event(cmd, "c4");
        processed.add(c4.getString("event"));
        agent.result("ack", new JsonObject().put("channel", cmd).put("ids", new JsonArray().add(c4.getString("id"))));
        ok(h.api("publish", TestServer.ADMIN_KEY, new JsonObject().put("channel", cmd).put("event", "c5")));
        processed.add(agent.event(cmd, "c5").getString("event"));
        assertEquals(List.of("c1", "c2", "c3", "c4", "c5"), processed, "each command once, in order");
        assertTrue(agent.seen(f -> "event".equals(f.getString("type")) && cmd.equals(f.getString("channel"))
            && List.of("c1", "c2", "c3").contains(f.getString("event"))).isEmpty(), "nothing processed twice");
        assertEquals(0, ok(h.get("/v1/channels/" + cmd + "/pending", token)).getJsonArray("publications").size());
      }
    }
  }

  /** An NDJSON stream cut mid-way: reconnecting with the last position gets exactly what was missed. */
  @Test
  void streamKilledMidWayRecovers() {
    String token = s.token("nd1", TestServer.grants("task:*", "subscribe,publish"));
    publish(token, "task:nd", "p1");
    List<JsonObject> seen = new ArrayList<>();
    Object[] conn = new Object[1];
    CompletableFuture<Void> twoSeen = new CompletableFuture<>();
    s.on.await(() -> s.http.request(new RequestOptions().setHost("127.0.0.1").setPort(s.wsPort).setURI("/v1/stream?channels=task:nd"))
        .compose(req -> req.putHeader("Authorization", "Bearer " + token).send())
        .map(resp -> {
          assertEquals(200, resp.statusCode());
          assertEquals("application/x-ndjson", resp.getHeader("content-type"));
          conn[0] = resp.request().connection();
          StringBuilder buf = new StringBuilder();
          resp.handler(b -> {
            buf.append(b.toString());
            int nl;
            while ((nl = buf.indexOf("\n")) >= 0) {
              JsonObject line = new JsonObject(buf.substring(0, nl));
              buf.delete(0, nl + 1);
              synchronized (seen) {
                seen.add(line);
                if (seen.stream().filter(j -> j.getValue("offset") != null).count() == 2) {
                  ((io.vertx.core.http.HttpConnection) conn[0]).close(); // killed mid-stream
                  twoSeen.complete(null);
                }
              }
            }
          });
          return null;
        }));
    io.switchboard.common.test.Await.until("subscribed line", () -> {
      synchronized (seen) {
        return seen.stream().anyMatch(j -> "subscribed".equals(j.getString("type")));
      }
    });
    publish(token, "task:nd", "p2");
    publish(token, "task:nd", "p3");
    twoSeen.join();
    publish(token, "task:nd", "p4"); // published while the stream was dead
    JsonObject lastSeen;
    synchronized (seen) {
      lastSeen = seen.stream().filter(j -> j.getValue("offset") != null).reduce((a, b) -> b).orElseThrow();
    }
    assertEquals("p3", lastSeen.getString("event"));
    String since = lastSeen.getLong("offset") + ":" + lastSeen.getString("epoch") + ":task:nd";
    JsonObject again = ok(h.get("/v1/poll?channels=task:nd&wait=5&since=" + enc(since), token));
    JsonArray events = storedOnly(again.getJsonArray("events")); // the dead stream's presence.leave may come too
    assertEquals(1, events.size());
    assertEquals("p4", events.getJsonObject(0).getString("event"));
    assertFalse(again.encode().contains("\"p3\""));
  }

  /** An SSE reader that stops reading is cut at the per-connection byte bound (4500), like a WebSocket one. */
  @Test
  void slowSseReaderIsCut() throws Exception {
    String token = s.token("sse-slow", TestServer.grants("task:*", "subscribe"));
    double cutBefore = s.metric("switchboard_disconnects_total{code=\"4500\"");
    try (java.net.Socket sock = new java.net.Socket()) {
      sock.setReceiveBufferSize(4096);
      sock.connect(new java.net.InetSocketAddress("127.0.0.1", s.wsPort));
      sock.setSoTimeout(20_000);
      sock.getOutputStream().write(("GET /v1/sse?channels=task:flood HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      var in = sock.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().contains("\"subscribed\"")) head.append((char) in.read());
      assertTrue(head.toString().startsWith("HTTP/1.1 200"), head.toString());
      assertTrue(head.toString().contains("text/event-stream"));
      assertTrue(head.toString().contains("retry: 2000"));
      // stop reading; flood from inside the server (no client rate limit in the way)
      var fanout = io.switchboard.common.Fanout.of(s.sb.vertx());
      String payload = "x".repeat(16 * 1024);
      int sent = 0;
      while (sent < 5000 && s.metric("switchboard_disconnects_total{code=\"4500\"") <= cutBefore) {
        for (int i = 0; i < 50; i++, sent++) fanout.publish(io.switchboard.common.Publication.event("task:flood", "blob", payload));
        int now = sent;
        Await.until("the flood is delivered or cut", Duration.ofSeconds(10), () -> now > 0);
      }
      assertEquals(cutBefore + 1, s.metric("switchboard_disconnects_total{code=\"4500\""), "cut as a slow consumer after " + sent);
      assertTrue(sent < 5000);
      // what is left to read ends: the stream was ended (or the connection cut)
      byte[] buf = new byte[64 * 1024];
      long read = 0;
      try {
        int n;
        while ((n = in.read(buf)) >= 0) read += n;
      } catch (java.net.SocketException reset) {
        // cut outright: fine
      }
      assertTrue(read < (long) sent * payload.length(), "the server did not buffer the whole flood for it");
    }
  }

  /** Held polls are connections: the per-subject limit counts them. */
  @Test
  void heldPollsCountAsConnections() {
    String token = s.token("poll-limit", TestServer.grants("task:*", "subscribe,publish"));
    double before = s.metric("switchboard_connections");
    CompletableFuture<GatewayHttp.Reply> p1 = pollAsync("/v1/poll?channels=task:pl&wait=20", token);
    CompletableFuture<GatewayHttp.Reply> p2 = pollAsync("/v1/poll?channels=task:pl&wait=20", token);
    Await.until("two polls held", () -> s.metric("switchboard_connections") >= before + 2);
    GatewayHttp.Reply third = h.get("/v1/poll?channels=task:pl&wait=20", token);
    assertEquals(429, third.status(), third.raw());
    assertEquals("limit_exceeded", third.errorCode());
    publish(token, "task:pl", "release");
    assertEquals("release", ok(p1.join()).getJsonArray("events").getJsonObject(0).getString("event"));
    assertEquals("release", ok(p2.join()).getJsonArray("events").getJsonObject(0).getString("event"));
    Await.until("polls released", () -> s.metric("switchboard_connections") <= before);
  }

  /** Many SSE streams on one channel: every stream gets every publication, in order (the shared frame, coalesced flushes). */
  @Test
  void fanOutToManySseStreams() {
    String token = s.token("sse-fan", TestServer.grants("task:*", "subscribe,publish"));
    int streams = 40;
    int pubs = 30;
    List<List<Long>> got = new ArrayList<>();
    var client = s.clientVertx.createHttpClient(new io.vertx.core.http.HttpClientOptions(),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(streams + 5));
    for (int i = 0; i < streams; i++) {
      String streamToken = s.token("sse-fan-" + i, TestServer.grants("task:*", "subscribe")); // 2 connections per subject here
      List<Long> offsets = java.util.Collections.synchronizedList(new ArrayList<>());
      got.add(offsets);
      s.on.await(() -> client.request(new RequestOptions().setHost("127.0.0.1").setPort(s.wsPort).setURI("/v1/sse?channels=task:fan"))
          .compose(req -> req.putHeader("Authorization", "Bearer " + streamToken).send())
          .map(resp -> {
            assertEquals(200, resp.statusCode());
            StringBuilder carry = new StringBuilder();
            resp.handler(b -> {
              carry.append(b.toString());
              int nl;
              while ((nl = carry.indexOf("\n")) >= 0) {
                String line = carry.substring(0, nl);
                carry.delete(0, nl + 1);
                if (line.startsWith("id: ")) offsets.add(Long.parseLong(line.substring(4, line.indexOf(':', 4))));
              }
            });
            return null;
          }));
    }
    Await.until("all streams subscribed", () -> s.metric("switchboard_connections") >= streams);
    // subscriptions are answered asynchronously: wait until a first publication reaches every stream
    JsonObject first = publish(token, "task:fan", "p0");
    Await.until("first publication on every stream", () -> got.stream().allMatch(l -> !l.isEmpty()));
    for (int i = 1; i < pubs; i++) publish(token, "task:fan", "p" + i);
    Await.until("every publication on every stream", () -> got.stream().allMatch(l -> l.size() == pubs));
    for (List<Long> l : got) {
      for (int i = 0; i < pubs; i++) assertEquals(first.getLong("offset") + i, l.get(i), "in order, each once");
    }
    s.on.await(() -> client.close());
  }
}
