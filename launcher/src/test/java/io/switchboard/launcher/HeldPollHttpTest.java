package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A held long-poll (native {@code GET /v1/poll}, PubNub subscribe) drops what its request keeps while it waits (the
 * headers, the URI's copies and the token in it, the decoder's grown scratch buffer): the answer is still whole and
 * correct, and the connection stays an HTTP/1.1 keep-alive connection that serves the next poll and other requests
 * (a deflated PubNub publish, whose body its route inflates now that the server does not). Everything on ONE socket.
 */
class HeldPollHttpTest {
  static final String KEY = "held-keepalive-key";
  static TestServer s;

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("apps", new JsonArray().add(new JsonObject().put("id", "default").put("key", KEY).put("secret", "held-keepalive-secret-01")));
    cfg.put("gateway", new JsonObject().put("maxPollWaitSeconds", 30));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
  }

  private static String enc(String v) {
    return URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20");
  }

  record Reply(int status, Map<String, String> headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** A minimal HTTP/1.1 client on one socket: one request, then its whole answer (Content-Length bodies). */
  static final class Conn implements AutoCloseable {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    Conn(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(30_000);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }

    void send(String method, String target, Map<String, String> headers, byte[] body) throws IOException {
      StringBuilder b = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      for (Map.Entry<String, String> h : headers.entrySet()) b.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      if (body != null) b.append("Content-Length: ").append(body.length).append("\r\n");
      b.append("\r\n");
      out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) out.write(body);
      out.flush();
    }

    Reply read() throws IOException {
      String status = line();
      assertTrue(status.startsWith("HTTP/1.1 "), "status line: " + status);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int c = l.indexOf(':');
        headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
      }
      int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
      byte[] body = in.readNBytes(length);
      assertEquals(length, body.length, "the whole body");
      return new Reply(Integer.parseInt(status.substring(9, 12)), headers, new String(body, StandardCharsets.UTF_8));
    }

    boolean hasBytes() throws IOException {
      return in.available() > 0;
    }

    private String line() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) != '\n') {
        if (c < 0) throw new IOException("connection closed by the server");
        if (c != '\r') b.write(c);
      }
      return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static JsonObject publish(String token, String channel, String event) {
    GatewayHttp.Reply r = new GatewayHttp(s).post("/v1/channels/" + channel + "/publications", token,
        new JsonObject().put("event", event).put("data", event));
    assertEquals(201, r.status(), r.raw());
    return r.body();
  }

  @Test
  void aHeldNativePollIsAnsweredWholeAndItsConnectionServesTheNextPolls() throws Exception {
    String token = s.token("ka-native", TestServer.grants("task:*", "subscribe,publish,history"));
    // the bearer header is longer than the decoder's 128-byte scratch buffer: it grew, and is shrunk while held
    assertTrue(token.length() > 128, "a real token: " + token.length());
    Map<String, String> auth = Map.of("Authorization", "Bearer " + token, "X-Padding", "p".repeat(600));
    String ch = "task:ka-native";
    publish(token, ch, "zero");
    try (Conn c = new Conn(s.wsPort)) {
      c.send("GET", "/v1/poll?channels=" + ch + "&wait=0", auth, null);
      Reply first = c.read();
      assertEquals(200, first.status(), first.body());
      String since = first.json().getString("since");
      for (int round = 1; round <= 3; round++) {
        double before = s.metric("switchboard_connections");
        c.send("GET", "/v1/poll?channels=" + ch + "&wait=20&since=" + enc(since), auth, null);
        int r = round;
        Await.until("poll " + r + " is held", () -> s.metric("switchboard_connections") >= before + 1);
        assertFalse(c.hasBytes(), "held, not answered");
        JsonObject sent = publish(token, ch, "e" + round);
        Reply answer = c.read();
        assertEquals(200, answer.status(), answer.body());
        assertEquals("application/json", answer.headers().get("content-type"));
        assertFalse("close".equalsIgnoreCase(answer.headers().get("connection")), "keep-alive: " + answer.headers());
        JsonObject body = answer.json();
        assertEquals(1, body.getJsonArray("events").size(), answer.body());
        assertEquals("e" + round, body.getJsonArray("events").getJsonObject(0).getString("event"));
        assertEquals(sent.getLong("offset"), body.getJsonObject("positions").getJsonObject(ch).getLong("offset"));
        assertEquals(true, body.getJsonArray("channels").getJsonObject(0).getBoolean("ok"));
        since = body.getString("since");
      }
      // a wait that ends (the wheel answers it) on the same connection, then an ordinary request on it
      c.send("GET", "/v1/poll?channels=" + ch + "&wait=1&since=" + enc(since), auth, null);
      Reply empty = c.read();
      assertEquals(0, empty.json().getJsonArray("events").size(), empty.body());
      c.send("GET", "/v1/channels/" + ch + "/history?limit=1", auth, null);
      Reply history = c.read();
      assertEquals(200, history.status(), history.body());
    }
  }

  @Test
  void aHeldPubNubPollIsAnsweredWholeAndItsConnectionServesTheNextRequests() throws Exception {
    String uuid = "ka-pubnub";
    String token = s.token(uuid, TestServer.allGrants());
    String ch = "task:ka-pubnub";
    String base = "/v2/subscribe/" + KEY + "/" + enc(ch) + "/0?uuid=" + uuid + "&auth=" + token;
    String publishBase = "/publish/" + KEY + "/" + KEY + "/0/" + enc(ch) + "/0";
    try (Conn c = new Conn(s.wsPort)) {
      c.send("GET", base + "&tt=0", Map.of(), null);
      Reply hs = c.read();
      assertEquals(200, hs.status(), hs.body());
      String cursor = hs.json().getJsonObject("t").getString("t");
      for (int round = 1; round <= 2; round++) {
        int before = io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.heldPolls();
        c.send("GET", base + "&tt=" + cursor + "&tr=1&heartbeat=300", Map.of("User-Agent", "PubNub-JS-Nodejs/8.2.0"), null);
        int r = round;
        Await.until("poll " + r + " is held", () -> io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.heldPolls() == before + 1);
        assertFalse(c.hasBytes(), "held, not answered");
        // the publication: by GET on another connection in round 1, deflated by POST in round 2
        String sentTt;
        if (round == 1) {
          try (Conn p = new Conn(s.wsPort)) {
            p.send("GET", publishBase + "/" + enc("{\"n\":1}") + "?uuid=ka-pub&auth=" + token, Map.of(), null);
            Reply pub = p.read();
            assertEquals(200, pub.status(), pub.body());
            sentTt = new JsonArray(pub.body()).getString(2);
          }
        } else {
          try (Conn p = new Conn(s.wsPort)) {
            p.send("POST", publishBase + "?uuid=ka-pub&auth=" + token, Map.of("Content-Type", "application/json", "Content-Encoding", "deflate"),
                deflate("{\"n\":2}"));
            Reply pub = p.read();
            assertEquals(200, pub.status(), pub.body());
            sentTt = new JsonArray(pub.body()).getString(2);
          }
        }
        Reply answer = c.read();
        assertEquals(200, answer.status(), answer.body());
        assertTrue(answer.headers().getOrDefault("content-type", "").contains("json"), answer.headers().toString());
        JsonObject env = answer.json().getJsonArray("m").getJsonObject(0);
        assertEquals(new JsonObject().put("n", round), env.getJsonObject("d"));
        assertEquals(sentTt, env.getJsonObject("p").getString("t"));
        assertEquals(ch, env.getString("c"));
        cursor = answer.json().getJsonObject("t").getString("t");
      }
      // the same socket: a deflated publish POST (inflated by its route), then history shows both
      c.send("POST", publishBase + "?uuid=" + uuid + "&auth=" + token, Map.of("Content-Type", "application/json", "Content-Encoding", "deflate"),
          deflate("{\"n\":3}"));
      Reply pub = c.read();
      assertEquals(200, pub.status(), pub.body());
      c.send("GET", "/v3/history/sub-key/" + KEY + "/channel/" + enc(ch) + "?uuid=" + uuid + "&auth=" + token + "&max=3", Map.of(), null);
      Reply h = c.read();
      assertEquals(200, h.status(), h.body());
      JsonArray items = h.json().getJsonObject("channels").getJsonArray(ch);
      assertEquals(3, items.size(), h.body());
      assertEquals(new JsonObject().put("n", 3), items.getJsonObject(2).getJsonObject("message"));
    }
  }

  @Test
  void encodedBodiesAreInflatedOnlyWherePubNubSendsThemAndRefusedClearlyElsewhere() throws Exception {
    String token = s.token("ka-enc", TestServer.allGrants());
    String publishBase = "/publish/" + KEY + "/" + KEY + "/0/task:ka-enc/0?uuid=ka-enc&auth=" + token;
    try (Conn c = new Conn(s.wsPort)) {
      // gzip is inflated too; a broken stream is a 400; an unknown encoding a 415; past 32 KiB inflated a 413
      c.send("POST", publishBase, Map.of("Content-Encoding", "gzip"), gzip("{\"g\":1}"));
      Reply ok = c.read();
      assertEquals(200, ok.status(), ok.body());
      c.send("POST", publishBase, Map.of("Content-Encoding", "deflate"), "not deflate".getBytes(StandardCharsets.UTF_8));
      Reply broken = c.read();
      assertEquals(400, broken.status(), broken.body());
      assertTrue(broken.body().contains("not a valid deflate stream"), broken.body());
      c.send("POST", publishBase, Map.of("Content-Encoding", "br"), "{}".getBytes(StandardCharsets.UTF_8));
      Reply brotli = c.read();
      assertEquals(415, brotli.status(), brotli.body());
      assertTrue(brotli.body().contains("Content-Encoding br is not supported"), brotli.body());
      c.send("POST", publishBase, Map.of("Content-Encoding", "deflate"), deflate("\"" + "x".repeat(40 * 1024) + "\""));
      Reply big = c.read();
      assertEquals(413, big.status(), big.body());
      // elsewhere: the REST API takes uncompressed JSON only, and says so (bad_request)
      c.send("POST", "/v1/channels/task:ka-enc/publications", Map.of("Authorization", "Bearer " + token, "Content-Type", "application/json",
          "Content-Encoding", "deflate"), deflate("{\"event\":\"e\",\"data\":1}"));
      Reply rest = c.read();
      assertEquals(400, rest.status(), rest.body());
      assertEquals("bad_request", rest.json().getJsonObject("error").getString("code"), rest.body());
      assertTrue(rest.json().getJsonObject("error").getString("message").contains("Content-Encoding deflate is not accepted"), rest.body());
      // and the connection still serves
      c.send("POST", "/v1/channels/task:ka-enc/publications", Map.of("Authorization", "Bearer " + token, "Content-Type", "application/json"),
          "{\"event\":\"e\",\"data\":1}".getBytes(StandardCharsets.UTF_8));
      assertEquals(201, c.read().status());
    }
  }

  /**
   * The server API reaches held polls, which are not sessions: {@code info} counts them on their own
   * ({@code heldPolls}, per node and in all), and {@code disconnect} of a user ends that user's held poll with the
   * native {@code disconnect} event at once — another user's held poll stays held.
   */
  @Test
  void theServerApiCountsHeldPollsAndItsDisconnectEndsThem() throws Exception {
    GatewayHttp h = new GatewayHttp(s);
    String ada = s.token("ka-ada", TestServer.grants("task:*", "subscribe"));
    String bob = s.token("ka-bob", TestServer.grants("task:*", "subscribe"));
    int before = h.api("info", TestServer.ADMIN_KEY, new JsonObject()).body().getInteger("heldPolls");
    try (Conn a = new Conn(s.wsPort); Conn b = new Conn(s.wsPort)) {
      a.send("GET", "/v1/poll?channels=task:ka-api&wait=25", Map.of("Authorization", "Bearer " + ada), null);
      b.send("GET", "/v1/poll?channels=task:ka-api&wait=25", Map.of("Authorization", "Bearer " + bob), null);
      Await.until("two polls held and counted", () -> {
        JsonObject info = GatewayHttp.ok(h.api("info", TestServer.ADMIN_KEY, new JsonObject()));
        return info.getInteger("heldPolls") == before + 2 && info.getJsonArray("nodes").getJsonObject(0).getInteger("heldPolls") == before + 2;
      });
      GatewayHttp.ok(h.api("disconnect", TestServer.ADMIN_KEY, new JsonObject().put("user", "ka-ada").put("reason", "bye ada")));
      Reply ended = a.read();
      assertEquals(200, ended.status(), ended.body());
      JsonArray events = ended.json().getJsonArray("events");
      assertEquals(1, events.size(), ended.body());
      assertEquals("disconnect", events.getJsonObject(0).getString("type"), ended.body());
      assertEquals("bye ada", events.getJsonObject(0).getString("reason"), ended.body());
      Await.until("bob's poll is still held, ada's no longer counted",
          () -> GatewayHttp.ok(h.api("info", TestServer.ADMIN_KEY, new JsonObject())).getInteger("heldPolls") == before + 1);
      assertFalse(b.hasBytes(), "bob's poll is not answered");
    }
  }

  /** An operator's terminate of a user (the admin dashboard, Pusher's terminate_connections) ends their held poll. */
  @Test
  void aTerminateOfTheUserEndsTheirHeldPoll() throws Exception {
    String cy = s.token("ka-cy", TestServer.grants("task:*", "subscribe"));
    GatewayHttp h = new GatewayHttp(s);
    int before = h.api("info", TestServer.ADMIN_KEY, new JsonObject()).body().getInteger("heldPolls");
    try (Conn c = new Conn(s.wsPort)) {
      c.send("GET", "/v1/poll?channels=task:ka-term&wait=25", Map.of("Authorization", "Bearer " + cy), null);
      Await.until("the poll is held", () -> GatewayHttp.ok(h.api("info", TestServer.ADMIN_KEY, new JsonObject())).getInteger("heldPolls") == before + 1);
      s.sb.vertx().eventBus().publish(io.switchboard.common.Addresses.GATEWAY_DISCONNECT,
          new JsonObject().put("subject", "ka-cy").put("reason", "terminated by an operator").put("by", "test"));
      Reply ended = c.read();
      assertEquals(200, ended.status(), ended.body());
      JsonArray events = ended.json().getJsonArray("events");
      assertEquals("disconnect", events.getJsonObject(events.size() - 1).getString("type"), ended.body());
      assertEquals("terminated by an operator", events.getJsonObject(events.size() - 1).getString("reason"), ended.body());
    }
  }

  private static byte[] deflate(String s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(bytes, new Deflater())) {
      d.write(s.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  private static byte[] gzip(String s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream g = new java.util.zip.GZIPOutputStream(bytes)) {
      g.write(s.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }
}
