package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Centrifuge protocol v2 on the wire, for what centrifuge-js never does wrong: the strict rules (first command
 * connect, ids, known methods → else 3501), newline batching, the server's {@code {}} ping and the client's pong
 * (none → 3012), the error codes of replies.
 */
class CentrifugeWireTest {
  static TestServer s;

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("gateway", new JsonObject().put("pingIntervalMs", 1000).put("pongTimeoutMs", 2000));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
  }

  /** A raw WebSocket on /connection/websocket: every line of every text frame, and the close code. */
  static final class Wire implements AutoCloseable {
    final ClientWebSocket ws;
    final List<String> frames = new ArrayList<>();
    final List<JsonObject> lines = new ArrayList<>();
    volatile Short closeCode;
    volatile String closeReason;

    Wire() {
      ws = s.ws.webSocket();
      ws.textMessageHandler(t -> {
        synchronized (this) {
          frames.add(t);
          for (String l : t.split("\n")) lines.add(new JsonObject(l));
        }
      });
      ws.closeHandler(v -> {
        closeReason = ws.closeReason();
        closeCode = ws.closeStatusCode() == null ? (short) 1006 : ws.closeStatusCode();
      });
      s.on.await(() -> ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(s.wsPort).setURI("/connection/websocket")));
    }

    void send(String text) {
      s.on.await(() -> ws.writeTextMessage(text));
    }

    JsonObject reply(long id) {
      JsonObject[] found = new JsonObject[1];
      // (the message must not read `lines` outside the lock: frames keep arriving meanwhile)
      Await.until("reply " + id, () -> {
        synchronized (this) {
          for (JsonObject l : lines) {
            if (l.getLong("id", 0L) == id) {
              found[0] = l;
              return true;
            }
          }
          return false;
        }
      });
      return found[0];
    }

    synchronized int count(java.util.function.Predicate<JsonObject> p) {
      return (int) lines.stream().filter(p).count();
    }

    int closed() {
      Await.until("closed", Duration.ofSeconds(10), () -> closeCode != null);
      return closeCode;
    }

    JsonObject connect(String subject) {
      send(new JsonObject().put("id", 1).put("connect", new JsonObject().put("token", s.token(subject, TestServer.allGrants()))).encode());
      JsonObject r = reply(1);
      assertTrue(r.containsKey("connect"), r.encode());
      return r.getJsonObject("connect");
    }

    @Override
    public void close() {
      if (closeCode == null) s.on.await(() -> ws.close());
    }
  }

  @Test
  void theFirstCommandMustBeConnect() {
    try (Wire w = new Wire()) {
      w.send("{\"id\":1,\"subscribe\":{\"channel\":\"task:1\"}}");
      assertEquals(3501, w.closed());
    }
  }

  @Test
  void malformedCommandsClose3501() {
    for (String bad : List.of("not json", "[1,2]", "{\"id\":2,\"frobnicate\":{}}", "{\"subscribe\":{\"channel\":\"task:1\"}}",
        "{\"id\":-1,\"presence\":{\"channel\":\"task:1\"}}", "{\"id\":3,\"presence\":\"task:1\"}")) {
      try (Wire w = new Wire()) {
        w.connect("wire-bad");
        w.send(bad);
        assertEquals(3501, w.closed(), bad);
      }
    }
  }

  @Test
  void connectAnswersClientExpiryPingAndThePersonalChannel() {
    try (Wire w = new Wire()) {
      JsonObject c = w.connect("wire-c");
      assertFalse(c.getString("client").isEmpty());
      assertTrue(c.getBoolean("expires"));
      assertTrue(c.getLong("ttl") > 3000 && c.getLong("ttl") <= 3600, c.encode());
      assertEquals(1, c.getInteger("ping"));
      assertTrue(c.getBoolean("pong"));
      JsonObject personal = c.getJsonObject("subs").getJsonObject("user:wire-c");
      assertTrue(personal.getBoolean("positioned"), personal.encode());
      assertFalse(personal.getString("epoch").isEmpty());
      assertEquals(0L, personal.getLong("offset"));
      // connect twice is a protocol violation
      w.send("{\"id\":2,\"connect\":{\"token\":\"x\"}}");
      assertEquals(3501, w.closed());
    }
  }

  /** Commands batched with newlines in one frame are all answered, each with its id. */
  @Test
  void newlineBatchedCommands() {
    try (Wire w = new Wire()) {
      w.connect("wire-batch");
      w.send("{\"id\":2,\"subscribe\":{\"channel\":\"task:b1\"}}\n{\"id\":3,\"subscribe\":{\"channel\":\"task:b1\"}}\n"
          + "{\"id\":4,\"presence_stats\":{\"channel\":\"task:b1\"}}\n{\"id\":5,\"history\":{\"channel\":\"task:b1\"}}\n"
          + "{\"id\":6,\"subscribe\":{\"channel\":\"nope:1\"}}\n{\"id\":7,\"subscribe\":{\"channel\":\"bad channel\"}}\n"
          + "{\"id\":8,\"subscribe\":{\"channel\":\"task:b2\",\"delta\":\"zstd\"}}\n"
          + "{\"id\":9,\"publish\":{\"channel\":\"task:b1\"}}\n{\"id\":10,\"rpc\":{\"method\":\"nobody\"}}\n"
          + "{\"id\":11,\"presence\":{\"channel\":\"typing:b1\"}}\n");
      JsonObject sub = w.reply(2).getJsonObject("subscribe");
      assertTrue(sub.getBoolean("recoverable") && sub.getBoolean("positioned"), sub.encode());
      assertEquals(105, w.reply(3).getJsonObject("error").getInteger("code"), "already subscribed");
      // presence joins are asynchronous: the stats answer has both counts (0 or 1 here; counted in CentrifugeTest)
      JsonObject stats = w.reply(4).getJsonObject("presence_stats");
      assertEquals(java.util.Set.of("num_clients", "num_users"), stats.fieldNames(), stats.encode());
      JsonObject hist = w.reply(5).getJsonObject("history");
      assertEquals(0, hist.getJsonArray("publications").size());
      assertEquals(0L, hist.getLong("offset"));
      assertEquals(102, w.reply(6).getJsonObject("error").getInteger("code"), "unknown namespace");
      assertEquals(107, w.reply(7).getJsonObject("error").getInteger("code"), "bad channel name");
      assertEquals(107, w.reply(8).getJsonObject("error").getInteger("code"), "unknown delta type");
      JsonObject noData = w.reply(9).getJsonObject("error");
      assertEquals(107, noData.getInteger("code"));
      assertEquals("data is required", noData.getString("message"));
      assertEquals(104, w.reply(10).getJsonObject("error").getInteger("code"), "no rpc handler");
      assertEquals(108, w.reply(11).getJsonObject("error").getInteger("code"), "presence is off in typing:*");
      assertEquals(null, w.closeCode, "errors in replies keep the connection");
    }
  }

  /** The server pings with {} at the announced interval; answering {} keeps the connection, silence closes it 3012. */
  @Test
  void pingPongAndNoPong() {
    try (Wire w = new Wire()) {
      w.connect("wire-ping");
      for (int i = 1; i <= 3; i++) {
        int k = i;
        Await.until("ping " + k, Duration.ofSeconds(10), () -> w.count(JsonObject::isEmpty) >= k);
        w.send("{}");
      }
      assertEquals(null, w.closeCode);
      // no pong for the next one
      assertEquals(3012, w.closed());
    }
  }

  @Test
  void pongWithoutPingCloses3501() {
    try (Wire w = new Wire()) {
      w.connect("wire-pong");
      w.send("{}");
      assertEquals(3501, w.closed());
    }
  }

  /** send (an async message to the app) with no handler for it closes with 3508, not available. */
  @Test
  void sendWithoutHandlerCloses3508() {
    try (Wire w = new Wire()) {
      w.connect("wire-send");
      w.send("{\"send\":{\"data\":{\"hello\":1}}}");
      assertEquals(3508, w.closed());
    }
  }

  /** Join and leave pushes go only to subscriptions that asked for them (join_leave). */
  @Test
  void joinLeaveOnlyWhenAsked() {
    try (Wire a = new Wire(); Wire b = new Wire()) {
      a.connect("wire-ja");
      b.connect("wire-jb");
      a.send("{\"id\":2,\"subscribe\":{\"channel\":\"chat:jl\",\"join_leave\":true}}");
      a.reply(2);
      b.send("{\"id\":2,\"subscribe\":{\"channel\":\"chat:jl\"}}");
      b.reply(2);
      Await.until("join push", () -> a.count(l -> l.getJsonObject("push") != null && l.getJsonObject("push").containsKey("join")
          && "wire-jb".equals(l.getJsonObject("push").getJsonObject("join").getJsonObject("info").getString("user"))) == 1);
      b.send("{\"id\":3,\"unsubscribe\":{\"channel\":\"chat:jl\"}}");
      assertEquals(new JsonObject(), b.reply(3).getJsonObject("unsubscribe"));
      Await.until("leave push", () -> a.count(l -> l.getJsonObject("push") != null && l.getJsonObject("push").containsKey("leave")) == 1);
      assertEquals(0, b.count(l -> l.getJsonObject("push") != null && l.getJsonObject("push").containsKey("join")));
    }
  }

  // --- emulation on the wire ---------------------------------------------------------------------

  private static TestServer.Reply post(String path, String body) {
    return s.on.await(() -> s.http.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
            .setHost("127.0.0.1").setPort(s.wsPort).setURI(path))
        .compose(r -> r.send(body))
        .compose(r -> r.body().map(b -> new TestServer.Reply(r.statusCode(), null, b.toString()))));
  }

  /**
   * HTTP streaming: the connect answer names the session; commands POSTed to /emulation are answered on the stream;
   * a malformed one ends the stream with a disconnect push (no close frame on HTTP).
   */
  @Test
  void httpStreamingSessionAndEmulationRequests() {
    assertEquals(400, post("/emulation", "{}").status());
    assertEquals(404, post("/emulation", "{\"session\":\"nope\",\"node\":\"x\",\"data\":\"{}\"}").status());
    List<JsonObject> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    StringBuilder partial = new StringBuilder();
    java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    String connect = new JsonObject().put("id", 1).put("connect", new JsonObject().put("token", s.token("wire-em", TestServer.allGrants()))).encode();
    s.on.await(() -> s.http.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
            .setHost("127.0.0.1").setPort(s.wsPort).setURI("/connection/http_stream"))
        .compose(r -> r.send(connect))
        .map(resp -> {
          assertEquals(200, resp.statusCode());
          assertEquals("application/json", resp.getHeader("content-type"));
          resp.handler(b -> {
            synchronized (partial) {
              partial.append(b.toString());
              int nl;
              while ((nl = partial.indexOf("\n")) >= 0) {
                lines.add(new JsonObject(partial.substring(0, nl)));
                partial.delete(0, nl + 1);
              }
            }
          });
          resp.endHandler(v -> ended.set(true));
          return resp;
        }));
    Await.until("connect answer", () -> !lines.isEmpty());
    JsonObject c = lines.get(0).getJsonObject("connect");
    String session = c.getString("session");
    assertEquals(c.getString("client"), session);
    assertTrue(c.containsKey("node"));
    JsonObject cmd = new JsonObject().put("session", session).put("node", c.getString("node"))
        .put("data", "{\"id\":2,\"subscribe\":{\"channel\":\"task:em1\"}}\n{\"id\":3,\"presence_stats\":{\"channel\":\"task:em1\"}}");
    assertEquals(204, post("/emulation", cmd.encode()).status());
    Await.until("subscribe and presence_stats answers", () -> lines.stream().anyMatch(l -> l.getLong("id", 0L) == 2)
        && lines.stream().anyMatch(l -> l.getLong("id", 0L) == 3));
    assertEquals(204, post("/emulation", cmd.put("data", "{\"id\":4,\"frobnicate\":{}}").encode()).status());
    Await.until("stream ended", ended::get);
    JsonObject bye = lines.get(lines.size() - 1).getJsonObject("push").getJsonObject("disconnect");
    assertEquals(3501, bye.getInteger("code"), bye.encode());
    assertFalse(bye.getBoolean("reconnect"));
    Await.until("session gone", () -> post("/emulation", cmd.encode()).status() == 404);
  }
}
