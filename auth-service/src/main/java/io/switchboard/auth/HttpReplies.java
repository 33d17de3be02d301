package io.switchboard.auth;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Writing answers. Every error leaves as {@code {"error":{"code","message"}}} with the status of its
 * {@link ErrorCode}; an unexpected exception becomes {@code internal} with no stack trace on the wire (it is logged).
 */
final class HttpReplies {
  private HttpReplies() {}

  private static final System.Logger LOG = System.getLogger(HttpReplies.class.getName());

  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended() || ctx.response().closed()) return;
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.encode());
  }

  static void empty(RoutingContext ctx, int status) {
    if (ctx.response().ended() || ctx.response().closed()) return;
    ctx.response().setStatusCode(status).end();
  }

  static void error(RoutingContext ctx, Throwable failure) {
    ServiceError e = toServiceError(ctx, failure);
    json(ctx, e.code().httpStatus(), new JsonObject().put("error", e.toJson()));
  }

  private static ServiceError toServiceError(RoutingContext ctx, Throwable t) {
    if (t instanceof ServiceError e) return e;
    LOG.log(System.Logger.Level.ERROR, "unexpected failure on " + ctx.request().method() + " " + ctx.request().path(), t);
    return new ServiceError(ErrorCode.INTERNAL, "internal error");
  }

  /** Router failures that carry only a status (body too large, no route, bad method). */
  static ServiceError fromStatus(RoutingContext ctx, int status) {
    String where = ctx.request().method() + " " + ctx.request().path();
    return switch (status) {
      case 413 -> new ServiceError(ErrorCode.TOO_LARGE, "request body is larger than " + AuthRoutes.MAX_BODY_BYTES + " bytes");
      case 400 -> ServiceError.badRequest("malformed request to " + where);
      case 404, 405 -> new ServiceError(ErrorCode.NOT_FOUND, "no endpoint " + where);
      default -> new ServiceError(ErrorCode.INTERNAL, "request to " + where + " failed with status " + status);
    };
  }
}
