package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.gateway.protocol.pusher.PusherSignatures;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A seeded, bounded fuzzer of hostile input against a real server process: mutated valid frames of every dialect
 * (native v1, Pusher 7, Centrifuge v2), wrong types in every field, deep nesting, huge arrays, truncated and corrupted JSON, invalid
 * UTF-8 and broken framing at the byte level, and fuzzed HTTP bodies for the Pusher API, the auth API, client REST
 * and the server API.
 *
 * <p>The contract checked for every input: an answer (a response, an error, a pong) or one of the documented close
 * codes — never silence, never {@code internal}, never a 5xx; afterwards the server still serves a normal client
 * with the same data, and its log holds no stack trace. {@code -Dfuzz.seed=N} replays a run; {@code
 * -Dfuzz.scale=K} runs K times as many inputs (the long run; the default keeps the CI run well under a minute).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FuzzTest {
  static final long SEED = Long.getLong("fuzz.seed", System.currentTimeMillis());
  static final int SCALE = Integer.getInteger("fuzz.scale", 1);
  static final Set<Integer> NATIVE_CLOSES = Set.of(4002, 1009, 1002, 1007);
  static final Set<Integer> PUSHER_CLOSES = Set.of(4009, 1009, 1002, 1007);
  private static ServerProcess server;
  private static final HttpClient http = HttpClient.newHttpClient();
  private static String token;
  private static JsonArray before;
  private final Random random = new Random(SEED);
  private static final List<String> internals = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    System.out.println("[fuzz] seed " + SEED + " (replay with -Dfuzz.seed=" + SEED + "), scale " + SCALE);
    server = new ServerProcess("fuzz", Map.of(
        "SWITCHBOARD_APPS", new JsonArray().add(new JsonObject().put("id", "1").put("key", "fz-key").put("secret", "fz-secret-1")
            .put("clientEvents", true)).encode(),
        "SWITCHBOARD_GATEWAY_PING_INTERVAL_MS", "600000",
        "SWITCHBOARD_GATEWAY_INSTANCES", "1"));
    token = token("fuzzer");
    try (RawWs ws = nativeClient()) {
      for (int i = 1; i <= 3; i++) {
        request(ws, "seed-" + i, "publish", new JsonObject().put("channel", "task:fz-keep").put("event", "kept").put("data", new JsonObject().put("n", i)));
      }
      before = request(ws, "h", "history", new JsonObject().put("channel", "task:fz-keep")).getJsonObject("result").getJsonArray("publications");
      assertEquals(3, before.size());
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  // --- clients ------------------------------------------------------------------------------------

  static String token(String subject) throws Exception {
    JsonObject body = new JsonObject().put("subject", subject).put("grants", TestServer.allGrants());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.authPort + "/v1/tokens"))
        .header("x-api-key", TestServer.ADMIN_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body()).getString("token");
  }

  static RawWs nativeClient() throws IOException {
    RawWs ws = new RawWs(server.wsPort);
    JsonObject r = request(ws, "c", "connect", new JsonObject().put("token", token));
    assertNotNull(r.getJsonObject("result"), r.encode());
    return ws;
  }

  static JsonObject request(RawWs ws, String id, String method, JsonObject params) throws IOException {
    ws.sendText(new JsonObject().put("type", "request").put("id", id).put("method", method).put("params", params).encode());
    return until(ws, f -> id.equals(f.getString("id")), "response " + id);
  }

  /** Reads text frames until one matches; fails on a close or after the socket's read timeout. */
  static JsonObject until(RawWs ws, Predicate<JsonObject> p, String what) throws IOException {
    while (true) {
      RawWs.Frame f = ws.read();
      if (f == null) throw new AssertionError("connection ended waiting for " + what);
      if (f.opcode() == 8) throw new AssertionError("closed with " + (f.payload().length >= 2 ? f.closeCode() : -1) + " waiting for " + what);
      if (f.opcode() != 1) continue;
      JsonObject j = new JsonObject(f.text());
      noInternal(j);
      if (p.test(j)) return j;
    }
  }

  static void noInternal(JsonObject frame) {
    String s = frame.encode();
    if (s.contains("\"internal\"")) internals.add(s);
  }

  // --- the generator ------------------------------------------------------------------------------

  Object value(int depth) {
    switch (random.nextInt(depth > 2 ? 8 : 14)) {
      case 0: return null;
      case 1: return random.nextBoolean();
      case 2: return random.nextInt();
      case 3: return random.nextBoolean() ? Long.MAX_VALUE : -random.nextLong();
      case 4: return random.nextDouble() * 1e300;
      case 5: return "";
      case 6: return randomString(random.nextInt(20));
      case 7: return "+999999999-12-31T23:59:59Z";
      case 8: return randomString(random.nextInt(3000));
      case 9: {
        JsonArray a = new JsonArray();
        for (int i = random.nextInt(4); i > 0; i--) a.add(value(depth + 1));
        return a;
      }
      case 10: {
        JsonObject o = new JsonObject();
        for (int i = random.nextInt(4); i > 0; i--) o.put(randomString(5), value(depth + 1));
        return o;
      }
      case 11: return nested(20 + random.nextInt(60));
      case 12: {
        JsonArray a = new JsonArray();
        int n = 1000 + random.nextInt(9000);
        for (int i = 0; i < n; i++) a.add(i);
        return a;
      }
      default: return "task:" + randomString(6);
    }
  }

  static Object nested(int depth) {
    Object v = 1;
    for (int i = 0; i < depth; i++) v = i % 2 == 0 ? new JsonArray().add(v) : new JsonObject().put("k", v);
    return v;
  }

  String randomString(int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      int k = random.nextInt(10);
      b.append(k < 6 ? (char) ('a' + random.nextInt(26)) : k < 8 ? "\"\\{}[]:,#~\u00e9\u4e2d\ud83d\ude00".charAt(random.nextInt(14)) : (char) random.nextInt(0x80));
    }
    return b.toString();
  }

  /** 1–3 random edits anywhere in a copy of the frame (nested objects included). */
  JsonObject mutate(JsonObject base) {
    JsonObject f = base.copy();
    for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
      JsonObject target = f;
      if (random.nextBoolean()) {
        for (String k : f.fieldNames()) {
          if (f.getValue(k) instanceof JsonObject o && random.nextBoolean()) target = o;
        }
      }
      List<String> keys = new ArrayList<>(target.fieldNames());
      int op = random.nextInt(3);
      if (op == 0 && !keys.isEmpty()) target.put(keys.get(random.nextInt(keys.size())), value(0));
      else if (op == 1 && !keys.isEmpty()) target.remove(keys.get(random.nextInt(keys.size())));
      else target.put(randomString(4), value(0));
    }
    return f;
  }

  /** The JSON text, sometimes corrupted as text: truncated, spliced, emptied. */
  String text(JsonObject f) {
    String s = f.encode();
    switch (random.nextInt(10)) {
      case 0: return s.substring(0, random.nextInt(Math.max(1, s.length())));
      case 1: {
        int at = random.nextInt(Math.max(1, s.length()));
        return s.substring(0, at) + randomString(3) + s.substring(at);
      }
      case 2: return random.nextBoolean() ? "" : "[" + s + "]";
      default: return s;
    }
  }

  // --- native v1 ----------------------------------------------------------------------------------

  static final List<JsonObject> NATIVE = List.of(
      new JsonObject().put("type", "ping"),
      new JsonObject().put("type", "subscribe").put("channels", new JsonArray().add("task:fz1")
          .add(new JsonObject().put("channel", "task:fz2").put("recover", new JsonObject().put("offset", 1).put("epoch", "e")))),
      new JsonObject().put("type", "unsubscribe").put("channels", new JsonArray().add("task:fz1")),
      req("publish", new JsonObject().put("channel", "task:fz1").put("event", "e").put("data", new JsonObject().put("a", 1))
          .put("priority", "high").put("tags", new JsonArray().add("t")).put("ttl", 60).put("requiresAck", true)
          .put("correlationId", "c").put("idempotencyKey", "k")),
      req("history", new JsonObject().put("channel", "task:fz1").put("since", new JsonObject().put("offset", 1).put("epoch", "e"))
          .put("limit", 10).put("reverse", true).put("filter", new JsonObject().put("priority", new JsonArray().add("high"))
              .put("tags", new JsonArray().add("t")).put("sourceType", new JsonArray().add("user")).put("unacked", true))),
      req("history", new JsonObject().put("channel", "task:fz1").put("sinceTime", "2026-01-01T00:00:00Z")),
      req("presence", new JsonObject().put("channel", "task:fz1")),
      req("presence.setState", new JsonObject().put("channel", "task:fz1").put("state", new JsonObject().put("s", 1))),
      req("ack", new JsonObject().put("channel", "task:fz1").put("ids", new JsonArray().add("x"))),
      req("pending", new JsonObject().put("channel", "task:fz1").put("since", new JsonObject().put("offset", 0).put("epoch", "e"))),
      req("refresh", new JsonObject().put("token", "x")),
      req("connect", new JsonObject().put("token", "x")),
      req("app.method", new JsonObject().put("x", 1)));

  static JsonObject req(String method, JsonObject params) {
    return new JsonObject().put("type", "request").put("method", method).put("params", params);
  }

  @Test
  @Order(1)
  void nativeFrames() throws Exception {
    int inputs = 300 * SCALE;
    int closes = 0;
    RawWs ws = nativeClient();
    try {
      for (int i = 0; i < inputs; i++) {
        JsonObject f = mutate(NATIVE.get(random.nextInt(NATIVE.size())));
        String id = "f" + i;
        if (random.nextInt(4) > 0) f.put("id", id);
        String text = text(f);
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        ws.sendText(text);
        Integer closed;
        try {
          closed = bytes > 65536 ? expectClose(ws, "native input " + i) : answerOrClose(ws, id, text, i);
        } catch (java.net.SocketTimeoutException e) {
          throw new AssertionError("native input " + i + " got no answer within the read timeout (silence): " + abbreviate(text), e);
        }
        if (closed != null) {
          assertTrue(NATIVE_CLOSES.contains(closed), "input " + i + " closed with undocumented " + closed + ": " + abbreviate(text));
          closes++;
          ws.close();
          ws = nativeClient();
        }
      }
    } finally {
      ws.close();
    }
    System.out.println("[fuzz] native: " + inputs + " inputs, " + closes + " documented closes");
    assertTrue(internals.isEmpty(), "internal errors: " + internals);
  }

  /**
   * After a fuzz frame: a probe request; until its answer, at least one answer to the fuzz frame (a response, an
   * error, a pong) must come. Answers to requests may come after the probe's (other services answer later), so a
   * frame with a usable id waits for its own response too. Null, or the close code.
   */
  private Integer answerOrClose(RawWs ws, String id, String sent, int i) throws IOException {
    boolean expectOwn = false;
    try {
      // as the server parses it: a document nested past the bound has no usable id and gets a type:error answer
      JsonObject f = io.switchboard.common.SafeJson.parseObject(sent);
      expectOwn = id.equals(f.getValue("id")) && f.getValue("type") instanceof String t && Set.of("request", "subscribe", "unsubscribe").contains(t);
    } catch (RuntimeException notAnObject) { // ServiceError included
      // answered with an error frame
    }
    String probe = "probe-" + i;
    ws.sendText(new JsonObject().put("type", "request").put("id", probe).put("method", "presence")
        .put("params", new JsonObject().put("channel", "task:fz-probe")).encode());
    boolean probeAnswered = false;
    boolean answered = false;
    boolean ownAnswered = false;
    while (!probeAnswered || !answered || expectOwn && !ownAnswered) {
      RawWs.Frame fr = ws.read();
      if (fr == null) throw new AssertionError("native input " + i + ": connection ended without a close frame: " + abbreviate(sent));
      if (fr.opcode() == 8) return fr.payload().length >= 2 ? fr.closeCode() : 1005;
      if (fr.opcode() != 1) continue;
      JsonObject j = new JsonObject(fr.text());
      noInternal(j);
      String type = j.getString("type");
      if ("event".equals(type) || "disconnect".equals(type)) continue; // a disconnect's close frame follows
      if (probe.equals(j.getString("id"))) {
        probeAnswered = true;
        continue;
      }
      answered = true;
      if (id.equals(j.getString("id"))) ownAnswered = true;
    }
    return null;
  }

  private static Integer expectClose(RawWs ws, String what) throws IOException {
    while (true) {
      RawWs.Frame f = ws.read();
      if (f == null) throw new AssertionError(what + ": bare TCP close");
      if (f.opcode() == 8) return f.payload().length >= 2 ? f.closeCode() : 1005;
    }
  }

  static String abbreviate(String s) {
    return s.length() > 700 ? s.substring(0, 500) + " … " + s.substring(s.length() - 200) + " (" + s.length() + " chars)" : s;
  }

  // --- Pusher 7 -----------------------------------------------------------------------------------

  static final List<JsonObject> PUSHER = List.of(
      new JsonObject().put("event", "pusher:ping").put("data", new JsonObject()),
      new JsonObject().put("event", "pusher:subscribe").put("data", new JsonObject().put("channel", "fz-public")),
      new JsonObject().put("event", "pusher:subscribe").put("data", new JsonObject().put("channel", "private-fz").put("auth", "fz-key:abc")),
      new JsonObject().put("event", "pusher:subscribe").put("data", new JsonObject().put("channel", "presence-fz").put("auth", "fz-key:abc")
          .put("channel_data", "{\"user_id\":\"u\"}")),
      new JsonObject().put("event", "pusher:subscribe").put("data", new JsonObject().put("channel", "cache-fz")),
      new JsonObject().put("event", "pusher:unsubscribe").put("data", new JsonObject().put("channel", "fz-public")),
      new JsonObject().put("event", "pusher:signin").put("data", new JsonObject().put("auth", "fz-key:abc").put("user_data", "{\"id\":\"u\"}")),
      new JsonObject().put("event", "client-fz").put("channel", "private-fz").put("data", new JsonObject().put("a", 1)));

  static RawWs pusherClient() throws IOException {
    RawWs ws = new RawWs(server.wsPort, 0, "/app/fz-key?protocol=7&client=fuzz&version=1");
    JsonObject hello = until(ws, j -> "pusher:connection_established".equals(j.getString("event")), "connection_established");
    assertTrue(new JsonObject(hello.getString("data")).getString("socket_id").matches("\\d+\\.\\d+"));
    return ws;
  }

  @Test
  @Order(2)
  void pusherFrames() throws Exception {
    int inputs = 200 * SCALE;
    int closes = 0;
    RawWs ws = pusherClient();
    try {
      for (int i = 0; i < inputs; i++) {
        JsonObject f = mutate(PUSHER.get(random.nextInt(PUSHER.size())));
        String text = text(f);
        ws.sendText(text);
        Integer closed = text.getBytes(StandardCharsets.UTF_8).length > 65536 ? expectClose(ws, "pusher input " + i) : pusherProbe(ws, i);
        if (closed != null) {
          assertTrue(PUSHER_CLOSES.contains(closed), "pusher input " + i + " closed with undocumented " + closed + ": " + abbreviate(text));
          closes++;
          ws.close();
          ws = pusherClient();
        }
      }
    } finally {
      ws.close();
    }
    System.out.println("[fuzz] pusher: " + inputs + " inputs, " + closes + " documented closes");
    assertTrue(internals.isEmpty(), "internal errors: " + internals);
  }

  /** Pusher has unanswered messages (unsubscribe): the contract is that the connection answers the next ping. */
  private Integer pusherProbe(RawWs ws, int i) throws IOException {
    ws.sendText(new JsonObject().put("event", "pusher:ping").put("data", new JsonObject()).encode());
    while (true) {
      RawWs.Frame fr = ws.read();
      if (fr == null) throw new AssertionError("pusher input " + i + ": connection ended without a close frame");
      if (fr.opcode() == 8) return fr.payload().length >= 2 ? fr.closeCode() : 1005;
      if (fr.opcode() != 1) continue;
      JsonObject j = new JsonObject(fr.text());
      noInternal(j);
      if ("pusher:pong".equals(j.getString("event"))) return null;
    }
  }

  // --- Centrifuge v2 -----------------------------------------------------------------------------

  /** Documented Centrifuge closes for bad input: bad request, invalid token, permission, not available, limits. */
  static final Set<Integer> CENTRIFUGE_CLOSES = Set.of(3500, 3501, 3503, 3504, 3507, 3508, 1009, 1002, 1007);

  static final List<JsonObject> CENTRIFUGE = List.of(
      new JsonObject().put("subscribe", new JsonObject().put("channel", "task:cfz").put("recover", true).put("offset", 1).put("epoch", "e")
          .put("delta", "fossil").put("join_leave", true)),
      new JsonObject().put("unsubscribe", new JsonObject().put("channel", "task:cfz")),
      new JsonObject().put("publish", new JsonObject().put("channel", "task:cfz").put("data", new JsonObject().put("a", 1))),
      new JsonObject().put("presence", new JsonObject().put("channel", "task:cfz")),
      new JsonObject().put("presence_stats", new JsonObject().put("channel", "task:cfz")),
      new JsonObject().put("history", new JsonObject().put("channel", "task:cfz").put("limit", 5).put("reverse", true)
          .put("since", new JsonObject().put("offset", 1).put("epoch", "e"))),
      new JsonObject().put("rpc", new JsonObject().put("method", "m").put("data", new JsonObject())),
      new JsonObject().put("refresh", new JsonObject().put("token", "x")),
      new JsonObject().put("sub_refresh", new JsonObject().put("channel", "task:cfz").put("token", "x")),
      new JsonObject().put("send", new JsonObject().put("data", new JsonObject())));

  static RawWs centrifugeClient() throws IOException {
    RawWs ws = new RawWs(server.wsPort, 0, "/connection/websocket");
    ws.sendText(new JsonObject().put("id", 1).put("connect", new JsonObject().put("token", token)).encode());
    JsonObject r = until(ws, j -> Integer.valueOf(1).equals(j.getValue("id")), "centrifuge connect");
    assertNotNull(r.getJsonObject("connect"), r.encode());
    return ws;
  }

  @Test
  @Order(3)
  void centrifugeCommands() throws Exception {
    int inputs = 120 * SCALE;
    int closes = 0;
    RawWs ws = centrifugeClient();
    try {
      for (int i = 0; i < inputs; i++) {
        JsonObject f = mutate(CENTRIFUGE.get(random.nextInt(CENTRIFUGE.size())));
        int id = 1000 + i;
        if (random.nextInt(5) > 0) f.put("id", id);
        String text = text(f);
        ws.sendText(text);
        Integer closed;
        try {
          closed = text.getBytes(StandardCharsets.UTF_8).length > 65536 ? expectClose(ws, "centrifuge input " + i) : centrifugeAnswer(ws, id, i);
        } catch (java.net.SocketTimeoutException e) {
          throw new AssertionError("centrifuge input " + i + " got no answer (silence): " + abbreviate(text), e);
        }
        if (closed != null) {
          assertTrue(CENTRIFUGE_CLOSES.contains(closed), "centrifuge input " + i + " closed with undocumented " + closed + ": " + abbreviate(text));
          closes++;
          ws.close();
          ws = centrifugeClient();
        }
      }
    } finally {
      ws.close();
    }
    System.out.println("[fuzz] centrifuge: " + inputs + " inputs, " + closes + " documented closes");
    assertTrue(internals.isEmpty(), "internal errors: " + internals);
  }

  /**
   * Centrifuge answers every command with its id, and closes with 3501 on a frame it cannot read; a probe
   * (presence_stats with a fresh id) shows the connection still answers after an unanswerable input.
   */
  private Integer centrifugeAnswer(RawWs ws, int id, int i) throws IOException {
    int probe = 1_000_000 + i;
    ws.sendText(new JsonObject().put("id", probe).put("presence_stats", new JsonObject().put("channel", "task:cfz-probe")).encode());
    boolean probeAnswered = false;
    boolean ownAnswered = false;
    while (!probeAnswered || !ownAnswered) {
      RawWs.Frame fr = ws.read();
      if (fr == null) throw new AssertionError("centrifuge input " + i + ": connection ended without a close frame");
      if (fr.opcode() == 8) return fr.payload().length >= 2 ? fr.closeCode() : 1005;
      if (fr.opcode() != 1) continue;
      for (String line : fr.text().split("\n")) {
        if (line.isBlank()) continue;
        JsonObject j = new JsonObject(line);
        if (j.getJsonObject("error") != null && Integer.valueOf(100).equals(j.getJsonObject("error").getValue("code"))) internals.add(line);
        Object got = j.getValue("id");
        if (Integer.valueOf(probe).equals(got)) {
          probeAnswered = true;
          // a frame without a readable id of ours got its answer before the probe's (errors are in order) or none is due
          ownAnswered = true;
        } else if (Integer.valueOf(id).equals(got)) {
          ownAnswered = true;
        }
      }
    }
    return null;
  }

  // --- byte-level framing -------------------------------------------------------------------------

  @Test
  @Order(4)
  void brokenFraming() throws Exception {
    int inputs = 60 * SCALE;
    int closes = 0;
    for (int i = 0; i < inputs; i++) {
      try (RawWs ws = nativeClient()) {
        int first = random.nextInt(256);
        boolean masked = random.nextInt(5) > 0;
        byte[] payload = new byte[random.nextInt(200)];
        random.nextBytes(payload);
        long announced = random.nextInt(8) == 0 ? random.nextInt(1 << 20) : payload.length;
        ws.sendFrame(first, masked, payload, announced);
        if (announced == payload.length) ws.sendText("{\"type\":\"ping\"}");
        while (true) {
          RawWs.Frame f = ws.readOrNull();
          if (f == null) throw new AssertionError("framing input " + i + " (first byte " + first + "): bare TCP close or silence");
          if (f.opcode() == 8) {
            int code = f.payload().length >= 2 ? f.closeCode() : 1005;
            assertTrue(Set.of(1000, 1002, 1007, 1009, 4002).contains(code), "framing input " + i + " closed with " + code);
            closes++;
            break;
          }
          if (f.opcode() == 1 && "pong".equals(new JsonObject(f.text()).getString("type"))) break;
        }
      }
    }
    System.out.println("[fuzz] framing: " + inputs + " inputs, " + closes + " documented closes");
  }

  // --- HTTP ---------------------------------------------------------------------------------------

  private HttpResponse<String> pusherPost(String body, boolean sign) throws Exception {
    String path = "/apps/1/events";
    TreeMap<String, String> q = new TreeMap<>(Map.of("auth_key", "fz-key", "auth_timestamp", Long.toString(System.currentTimeMillis() / 1000),
        "auth_version", "1.0", "body_md5", PusherSignatures.md5Hex(body.getBytes(StandardCharsets.UTF_8))));
    String sig = sign ? PusherSignatures.requestSignature("fz-secret-1", "POST", path, q) : randomString(8).replaceAll("[^a-z]", "x");
    StringBuilder url = new StringBuilder("http://127.0.0.1:" + server.wsPort + path + "?auth_signature=" + sig);
    q.forEach((k, v) -> url.append('&').append(k).append('=').append(v));
    return http.send(HttpRequest.newBuilder(URI.create(url.toString())).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Order(5)
  void httpBodies() throws Exception {
    JsonObject trigger = new JsonObject().put("name", "ev").put("channels", new JsonArray().add("fz-public")).put("data", "{\"a\":1}")
        .put("socket_id", "1.2").put("info", "subscription_count");
    JsonObject tokenReq = new JsonObject().put("subject", "s").put("grants", TestServer.allGrants()).put("ttl", 60)
        .put("info", new JsonObject().put("n", 1)).put("sourceType", "agent");
    JsonObject restPub = new JsonObject().put("event", "e").put("data", new JsonObject().put("a", 1)).put("priority", "high")
        .put("tags", new JsonArray().add("t")).put("ttl", 60).put("requiresAck", true).put("idempotencyKey", "k");
    JsonObject serverPub = restPub.copy().put("channel", "task:fz-api");
    int inputs = 300 * SCALE;
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (int i = 0; i < inputs; i++) {
      int api = random.nextInt(4);
      String body = text(mutate(api == 0 ? trigger : api == 1 ? tokenReq : api == 2 ? restPub : serverPub));
      HttpResponse<String> r;
      String name;
      if (api == 0) {
        name = "pusher API";
        r = pusherPost(body, random.nextInt(6) > 0);
      } else {
        name = api == 1 ? "auth API" : api == 2 ? "REST publish" : "server API";
        String url = api == 1 ? "http://127.0.0.1:" + server.authPort + "/v1/tokens"
            : api == 2 ? "http://127.0.0.1:" + server.wsPort + "/v1/channels/task:fz-rest/publications"
            : "http://127.0.0.1:" + server.wsPort + "/api/publish";
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
        if (api == 2) b.header("Authorization", "Bearer " + token);
        else b.header("x-api-key", TestServer.ADMIN_KEY);
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      }
      statuses.merge(r.statusCode(), 1, Integer::sum);
      assertTrue(r.statusCode() < 500, name + " answered " + r.statusCode() + " to " + abbreviate(body) + ": " + r.body());
      assertFalse(r.body().contains("\"internal\""), r.body());
    }
    System.out.println("[fuzz] http: " + inputs + " bodies, statuses " + statuses);
  }

  // --- afterwards ---------------------------------------------------------------------------------

  @Test
  @Order(99)
  void theServerStillServesTheSameDataAndLoggedNoStackTrace() throws Exception {
    assertTrue(server.alive(), "the server process died");
    try (RawWs ws = nativeClient()) {
      JsonArray after = request(ws, "h", "history", new JsonObject().put("channel", "task:fz-keep")).getJsonObject("result").getJsonArray("publications");
      assertEquals(before, after, "the data from before the fuzzing is intact");
      ws.sendText(new JsonObject().put("type", "subscribe").put("id", "s").put("channels", new JsonArray().add("task:fz-after")).encode());
      until(ws, j -> "s".equals(j.getString("id")), "subscribe");
      ws.sendText(new JsonObject().put("type", "request").put("id", "p").put("method", "publish").put("params",
          new JsonObject().put("channel", "task:fz-after").put("event", "ok").put("data", 1)).encode());
      // the event may come before or after the publish answer
      boolean[] seen = new boolean[2];
      until(ws, j -> {
        if ("p".equals(j.getString("id"))) seen[0] = true;
        if ("event".equals(j.getString("type")) && "ok".equals(j.getString("event"))) seen[1] = true;
        return seen[0] && seen[1];
      }, "the publish answer and the publication");
    }
    String log = server.logText();
    List<String> traces = log.lines().filter(l -> l.startsWith("\tat ") || l.contains("Exception:") && !l.contains("ServiceError")).limit(20).toList();
    assertTrue(traces.isEmpty(), "the server logged stack traces:\n" + String.join("\n", traces));
  }
}
