package io.switchboard.gateway.http;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;

/** JSON answers and errors of the gateway's HTTP APIs: {@code {"error":{"code","message"}}} with the code's status. */
final class Http {
  private Http() {}

  /** Request bodies are bounded like WebSocket frames are (413 {@code too_large} past it). */
  static final int MAX_BODY_BYTES = 64 * 1024;

  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended() || ctx.response().closed()) return;
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }

  static void error(RoutingContext ctx, Throwable t) {
    ServiceError e = ServiceError.from(t, "request");
    if (ctx.response().ended() || ctx.response().closed() || ctx.response().headWritten()) return;
    Object retry = e.extra() == null ? null : e.extra().getValue("retryAfterMs");
    if (retry instanceof Number n) ctx.response().putHeader("retry-after", Long.toString(Math.max(1, (n.longValue() + 999) / 1000)));
    if (e.code() == ErrorCode.UNAUTHORIZED || e.code() == ErrorCode.TOKEN_EXPIRED) {
      ctx.response().putHeader("www-authenticate", "Bearer");
    }
    json(ctx, e.code().httpStatus(), new JsonObject().put("error", e.toJson()));
  }

  /** Runs an action and writes its answer or its error; a ServiceError thrown synchronously is an answer too. */
  static Handler<RoutingContext> answer(int status, Function<RoutingContext, Future<JsonObject>> action) {
    return ctx -> {
      Future<JsonObject> f;
      try {
        f = action.apply(ctx);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        if (ar.succeeded()) json(ctx, status, ar.result());
        else error(ctx, ar.cause());
      });
    };
  }

  /** Failures of the router itself (the body handler's 413, a bug): the same error body. */
  static void failed(RoutingContext ctx) {
    Throwable t = ctx.failure();
    int status = ctx.statusCode();
    if (status == 413) {
      error(ctx, new ServiceError(ErrorCode.TOO_LARGE, "request body is larger than " + MAX_BODY_BYTES + " bytes"));
    } else if (t instanceof ServiceError e) {
      error(ctx, e);
    } else if (status == 400) {
      error(ctx, ServiceError.badRequest("malformed request"));
    } else {
      if (t != null) System.getLogger(Http.class.getName()).log(System.Logger.Level.ERROR, "HTTP API request failed",
          io.switchboard.common.LogFields.of("method", ctx.request().method().name(), "path", ctx.request().path()).error(t));
      error(ctx, new ServiceError(ErrorCode.INTERNAL, "internal error"));
    }
  }

  /** The JSON object body; {@code bad_request} naming what is wrong when it is not one. */
  static JsonObject body(RoutingContext ctx) {
    var b = ctx.body().buffer();
    if (b == null || b.length() == 0) throw ServiceError.badRequest("body is required: a JSON object");
    try {
      return io.switchboard.common.SafeJson.parseObject(b); // nesting bounded, like every untrusted input
    } catch (ServiceError e) {
      throw ServiceError.badRequest("body: " + e.getMessage());
    }
  }

  /** The bearer credential of {@code Authorization: Bearer …}; null when absent. */
  static String bearer(HttpServerRequest r) {
    String auth = r.getHeader("Authorization");
    if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
    String t = auth.substring(7).trim();
    return t.isEmpty() ? null : t;
  }

  static ServiceError noToken() {
    return new ServiceError(ErrorCode.UNAUTHORIZED, "no token: send Authorization: Bearer <token>");
  }
}
