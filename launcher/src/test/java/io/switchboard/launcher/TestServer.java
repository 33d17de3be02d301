package io.switchboard.launcher;

import io.switchboard.common.Config;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.Ports;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;

/**
 * The real Switchboard started in-process for end-to-end tests (same code path as {@code java -jar}), on free
 * loopback ports, plus real HTTP and WebSocket clients on a separate Vert.x instance.
 */
final class TestServer implements AutoCloseable {
  static final String ADMIN_KEY = "sba_test_admin_key_0123456789";

  final Switchboard sb;
  final int wsPort;
  final int authPort;
  final int opsPort;
  final Vertx clientVertx;
  final HttpClient http;
  final WebSocketClient ws;
  /** Every client call starts on this context (see OnContext for why). */
  final OnContext on;

  private TestServer(Switchboard sb, int wsPort, int authPort, int opsPort) {
    this.sb = sb;
    this.wsPort = wsPort;
    this.authPort = authPort;
    this.opsPort = opsPort;
    this.clientVertx = Vertx.vertx();
    this.http = clientVertx.createHttpClient(new HttpClientOptions());
    this.on = new OnContext(clientVertx);
    this.ws = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1024 * 1024).setMaxMessageSize(4 * 1024 * 1024));
  }

  /** Starts with the defaults overridden by {@code overrides} (deep-merged), on free ports. */
  static TestServer start(JsonObject overrides) {
    int ws = Ports.free();
    int auth = Ports.free();
    int ops = Ports.free();
    JsonObject base = new JsonObject()
        .put("adminKey", ADMIN_KEY)
        .put("gateway", new JsonObject().put("host", "127.0.0.1").put("port", ws).put("instances", 2))
        .put("auth", new JsonObject().put("host", "127.0.0.1").put("port", auth))
        .put("operations", new JsonObject().put("host", "127.0.0.1").put("port", ops));
    JsonObject merged = deepMerge(deepMerge(base, engine()), overrides == null ? new JsonObject() : overrides);
    JsonObject config = Config.of(merged);
    Switchboard sb = Await.result(Switchboard.start(config, EnumSet.allOf(Service.class)));
    return new TestServer(sb, ws, auth, ops);
  }

  /**
   * The storage engine the end-to-end suite runs on: {@code -Dswitchboard.test.engine=redis} (a second surefire
   * execution) runs every test against a real Redis, flushed first — use a disposable one with SWITCHBOARD_TEST_REDIS.
   */
  static JsonObject engine() {
    if (!"redis".equals(System.getProperty("switchboard.test.engine", "memory"))) return new JsonObject();
    TestRedis redis = TestRedis.shared();
    if (!flushed) {
      flushed = true;
      try (var jedis = new redis.clients.jedis.Jedis(java.net.URI.create(redis.url()))) {
        jedis.flushAll();
      }
    }
    return new JsonObject().put("engine", "redis").put("redis", new JsonObject().put("url", redis.url()));
  }

  private static boolean flushed;

  static JsonObject deepMerge(JsonObject a, JsonObject b) {
    JsonObject out = a.copy();
    for (String k : b.fieldNames()) {
      Object bv = b.getValue(k);
      Object av = out.getValue(k);
      out.put(k, av instanceof JsonObject ao && bv instanceof JsonObject bo ? deepMerge(ao, bo) : bv);
    }
    return out;
  }

  // --- HTTP ------------------------------------------------------------------------------------------

  record Reply(int status, JsonObject body, String raw) {}

  Reply httpCall(HttpMethod method, String path, String apiKey, String body) {
    return on.await(() -> http.request(new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(authPort).setURI(path))
        .compose(req -> {
          if (apiKey != null) req.putHeader("x-api-key", apiKey);
          req.putHeader("content-type", "application/json");
          return body == null ? req.send() : req.send(Buffer.buffer(body));
        })
        .compose(resp -> resp.body().map(b -> {
          String raw = b.toString();
          JsonObject json = null;
          try {
            json = raw.isEmpty() ? null : new JsonObject(raw);
          } catch (RuntimeException ignored) {
            // not JSON: the test looks at raw
          }
          return new Reply(resp.statusCode(), json, raw);
        })));
  }

  /** An admin-minted token for {@code subject} with the given grants ({channel, capabilities}). */
  String token(String subject, JsonArray grants) {
    return token(new JsonObject().put("subject", subject).put("grants", grants));
  }

  String token(JsonObject request) {
    Reply r = httpCall(HttpMethod.POST, "/v1/tokens", ADMIN_KEY, request.encode());
    if (r.status() != 200 && r.status() != 201) throw new AssertionError("token request failed: " + r.status() + " " + r.raw());
    return r.body().getString("token");
  }

  static JsonArray grants(Object... channelThenCaps) {
    JsonArray a = new JsonArray();
    for (int i = 0; i < channelThenCaps.length; i += 2) {
      a.add(new JsonObject().put("channel", channelThenCaps[i]).put("capabilities", new JsonArray(java.util.List.of(((String) channelThenCaps[i + 1]).split(",")))));
    }
    return a;
  }

  /** Everything on every channel. */
  static JsonArray allGrants() {
    return grants("*", "subscribe,publish,presence,history");
  }

  // --- WebSocket -------------------------------------------------------------------------------------

  /** Opens a socket and sends connect; waits for the connect answer. */
  WsClient connect(String token) {
    WsClient c = open(null);
    JsonObject r = c.request("connect", new JsonObject().put("token", token));
    if (r.containsKey("error")) throw new AssertionError("connect failed: " + r.encode());
    c.connectResult = r.getJsonObject("result");
    return c;
  }

  /** Opens a socket without sending anything (optionally with an Authorization header). */
  WsClient open(String bearer) {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(wsPort).setURI("/ws");
    if (bearer != null) o.addHeader("Authorization", "Bearer " + bearer);
    // handlers are set before the upgrade completes: the server may write (header auth's "connected") at once
    io.vertx.core.http.ClientWebSocket socket = ws.webSocket();
    WsClient client = new WsClient(socket, on);
    on.await(() -> socket.connect(o));
    return client;
  }

  /** The value of one Prometheus sample (the line starting with {@code prefix}), 0 when absent. */
  double metric(String prefix) {
    String body = on.await(() -> http.request(new RequestOptions().setHost("127.0.0.1").setPort(opsPort).setURI("/metrics"))
        .compose(r -> r.send()).compose(r -> r.body())).toString();
    for (String line : body.split("\n")) {
      if (line.startsWith(prefix)) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return 0;
  }

  @Override
  public void close() {
    Await.result(clientVertx.close());
    Await.result(sb.close());
  }
}
