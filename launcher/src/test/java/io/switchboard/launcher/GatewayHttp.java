package io.switchboard.launcher;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/** Plain Vert.x HTTP calls to the gateway port (REST, server API, tickets, polls). */
final class GatewayHttp {
  private final io.switchboard.common.test.OnContext on;
  private final io.vertx.core.http.HttpClient http;
  private final int port;

  GatewayHttp(TestServer s) {
    this(s.on, s.http, s.wsPort);
  }

  GatewayHttp(io.switchboard.common.test.OnContext on, io.vertx.core.http.HttpClient http, int port) {
    this.on = on;
    this.http = http;
    this.port = port;
  }

  record Reply(int status, JsonObject body, String raw, Map<String, String> headers) {
    String errorCode() {
      return body == null || body.getJsonObject("error") == null ? null : body.getJsonObject("error").getString("code");
    }
  }

  Reply call(HttpMethod method, String path, Map<String, String> headers, String body) {
    return on.await(() -> http.request(new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path))
        .compose(req -> {
          headers.forEach(req::putHeader);
          if (body != null) req.putHeader("content-type", "application/json");
          return body == null ? req.send() : req.send(Buffer.buffer(body));
        })
        .compose(resp -> resp.body().map(b -> {
          String raw = b.toString();
          JsonObject json = null;
          try {
            json = raw.isEmpty() ? null : new JsonObject(raw);
          } catch (RuntimeException ignored) {
            // not JSON
          }
          Map<String, String> h = new java.util.HashMap<>();
          resp.headers().forEach(e -> h.put(e.getKey().toLowerCase(), e.getValue()));
          return new Reply(resp.statusCode(), json, raw, h);
        })));
  }

  Reply bearer(HttpMethod method, String path, String token, String body) {
    return call(method, path, token == null ? Map.of() : Map.of("Authorization", "Bearer " + token), body);
  }

  Reply get(String path, String token) {
    return bearer(HttpMethod.GET, path, token, null);
  }

  Reply post(String path, String token, JsonObject body) {
    return bearer(HttpMethod.POST, path, token, body == null ? null : body.encode());
  }

  Reply api(String command, String key, JsonObject params) {
    return call(HttpMethod.POST, "/api/" + command, key == null ? Map.of() : Map.of("x-api-key", key), params.encode());
  }

  /** Opens an endless stream, returns its status once the head arrived, and closes the connection. */
  int streamStatus(String path) {
    return on.await(() -> http.request(new RequestOptions().setHost("127.0.0.1").setPort(port).setURI(path))
        .compose(req -> req.send())
        .map(resp -> {
          resp.request().connection().close();
          return resp.statusCode();
        }));
  }

  /** The JSON of a 2xx answer; fails with the answer otherwise. */
  static JsonObject ok(Reply r) {
    if (r.status() / 100 != 2) throw new AssertionError("expected success, got " + r.status() + " " + r.raw());
    return r.body();
  }
}
