package io.switchboard.auth;

import io.switchboard.common.test.OnContext;

import io.switchboard.common.Ids;
import io.switchboard.common.test.Ports;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/** A deployed AuthVerticle on a free loopback port and a real HTTP client to talk to it. */
final class AuthHarness {
  /** One answer: status, headers and the raw body (JSON via {@link #json()}). */
  record Reply(int status, MultiMap headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String errorCode() {
      return json().getJsonObject("error").getString("code");
    }

    String errorMessage() {
      return json().getJsonObject("error").getString("message");
    }
  }

  final Vertx vertx;
  final int port;
  final String adminKey = "admin-" + Ids.secret(16);
  final JsonObject config;
  final OnContext on;
  private final HttpClient client;

  private AuthHarness(Vertx vertx, JsonObject overrides) {
    this.vertx = vertx;
    this.port = Ports.free();
    this.config = new JsonObject()
        .put("adminKey", adminKey)
        .put("auth", new JsonObject().put("host", "127.0.0.1").put("port", port))
        .mergeIn(overrides, true);
    this.config.getJsonObject("auth").put("host", "127.0.0.1").put("port", port);
    this.on = new OnContext(vertx);
    this.client = vertx.createHttpClient();
  }

  static AuthHarness memory(Vertx vertx) {
    return start(vertx, new JsonObject());
  }

  static AuthHarness redis(Vertx vertx, String url) {
    return start(vertx, new JsonObject().put("engine", "redis").put("redis", new JsonObject().put("url", url)));
  }

  static AuthHarness start(Vertx vertx, JsonObject overrides) {
    AuthHarness h = new AuthHarness(vertx, overrides);
    h.on.await(() -> vertx.deployVerticle(new AuthVerticle(), new DeploymentOptions().setConfig(h.config)));
    return h;
  }

  Reply send(HttpMethod method, String path, Map<String, String> headers, Buffer body) {
    return on.await(() -> client.request(method, port, "127.0.0.1", path)
        .compose(req -> {
          headers.forEach(req::putHeader);
          return body == null ? req.send() : req.send(body);
        })
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b.toString()))));
  }

  Reply post(String path, String apiKey, Object body) {
    Buffer buf = body == null ? null : Buffer.buffer(body instanceof JsonObject j ? j.encode() : body.toString());
    return send(HttpMethod.POST, path, apiKey == null ? Map.of() : Map.of("x-api-key", apiKey), buf);
  }

  Reply delete(String path, String apiKey) {
    return send(HttpMethod.DELETE, path, apiKey == null ? Map.of() : Map.of("x-api-key", apiKey), null);
  }

  Reply get(String path) {
    return send(HttpMethod.GET, path, Map.of(), null);
  }

  /** Mints an admin token and checks it succeeded. */
  JsonObject adminToken(JsonObject body) {
    Reply r = post("/v1/tokens", adminKey, body);
    if (r.status() != 200) throw new AssertionError("admin token failed: " + r);
    return r.json();
  }

  /** Creates an API key and returns {id, key}. */
  JsonObject createKey(JsonObject body) {
    Reply r = post("/v1/keys", adminKey, body);
    if (r.status() != 201) throw new AssertionError("key creation failed: " + r);
    return r.json();
  }

  /** A verifier built from nothing but the JWKS the service publishes: what a gateway does. */
  JWTAuth verifierFromJwks() {
    JsonObject jwks = get("/.well-known/jwks.json").json();
    JWTAuthOptions options = new JWTAuthOptions();
    for (Object k : jwks.getJsonArray("keys")) options.addJwk((JsonObject) k);
    return JWTAuth.create(vertx, options);
  }

  static JsonObject grant(String channel, String... capabilities) {
    return new JsonObject().put("channel", channel).put("capabilities", new JsonArray(java.util.List.of((Object[]) capabilities)));
  }

  static JsonObject claims(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  static JsonObject header(String token) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[0]), StandardCharsets.UTF_8));
  }
}
