package io.switchboard.common;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * The access log of an HTTP API ({@code logging.accessLog: true}): one INFO line per request when its response has
 * been written, with {@code method}, {@code path} (never the query string), {@code status}, {@code ms} and
 * {@code remote} as {@link LogFields} — one JSON object per request with {@code logging.format: json}.
 */
public final class AccessLog {
  private static final System.Logger LOG = System.getLogger(AccessLog.class.getName());

  private AccessLog() {}

  /** {@code handler} itself when the access log is off, else a handler that logs each request it serves. */
  public static Handler<HttpServerRequest> wrap(JsonObject config, String api, Handler<HttpServerRequest> handler) {
    JsonObject logging = config.getJsonObject("logging");
    if (logging == null || !logging.getBoolean("accessLog", false)) return handler;
    return req -> {
      long start = System.nanoTime();
      req.response().endHandler(v -> LOG.log(System.Logger.Level.INFO,
          api + ": " + req.method() + " " + req.path() + " " + req.response().getStatusCode(),
          LogFields.of("api", api, "method", req.method().name(), "path", req.path(),
              "status", req.response().getStatusCode(), "ms", (System.nanoTime() - start) / 1_000_000,
              "remote", req.remoteAddress() == null ? null : req.remoteAddress().hostAddress())));
      handler.handle(req);
    };
  }
}
