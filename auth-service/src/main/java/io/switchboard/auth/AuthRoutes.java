package io.switchboard.auth;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.function.Function;

/**
 * The HTTP API of protocol.md "HTTP: tokens and keys". Credentials come as {@code x-api-key: <key>} or
 * {@code Authorization: Bearer <key>}; the admin key is compared in constant time. Authentication is checked before
 * the body is validated, so an anonymous caller learns nothing from validation messages.
 */
final class AuthRoutes {
  static final int MAX_BODY_BYTES = 64 * 1024;

  private final String adminKey;
  private final SigningKeys keys;
  private final ApiKeys apiKeys;
  private final Tokens tokens;
  private final Revoker revoker;

  AuthRoutes(String adminKey, SigningKeys keys, ApiKeys apiKeys, Tokens tokens, Revoker revoker) {
    this.adminKey = adminKey;
    this.keys = keys;
    this.apiKeys = apiKeys;
    this.tokens = tokens;
    this.revoker = revoker;
  }

  Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.get("/.well-known/jwks.json").handler(ctx -> HttpReplies.json(ctx, 200, keys.jwks()));
    router.post("/v1/tokens").handler(answer(200, this::issueToken));
    router.post("/v1/keys").handler(answer(201, admin(ctx -> apiKeys.create(Fields.body(ctx.body().buffer(), false)))));
    router.delete("/v1/keys/:id").handler(answer(204, admin(ctx -> apiKeys.delete(ctx.pathParam("id")).map(v -> null))));
    router.post("/v1/revocations").handler(answer(202, admin(ctx -> revoker.revoke(Fields.body(ctx.body().buffer(), false)))));
    router.route().failureHandler(this::failed);
    router.errorHandler(404, ctx -> HttpReplies.error(ctx, HttpReplies.fromStatus(ctx, 404)));
    router.errorHandler(405, ctx -> HttpReplies.error(ctx, HttpReplies.fromStatus(ctx, 405)));
    return router;
  }

  /** Admin key → a token for any subject; an API key → a token from the key's policy. */
  private Future<JsonObject> issueToken(RoutingContext ctx) {
    String presented = credential(ctx.request());
    if (presented == null) return Future.failedFuture(missingCredential());
    if (Secrets.same(presented, adminKey)) return tokens.forAdmin(Fields.body(ctx.body().buffer(), false));
    if (Secrets.idOf(presented) == null) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "the key is neither the admin key nor an API key"));
    }
    return tokens.forKey(presented, ctx.body().buffer());
  }

  private Function<RoutingContext, Future<JsonObject>> admin(Function<RoutingContext, Future<JsonObject>> action) {
    return ctx -> {
      String presented = credential(ctx.request());
      if (presented == null) return Future.failedFuture(missingCredential());
      if (!Secrets.same(presented, adminKey)) {
        return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "this endpoint needs the admin key; the key given is not it"));
      }
      return action.apply(ctx);
    };
  }

  /** Runs an action and writes its answer (or error); validation errors thrown synchronously are answers too. */
  private static Handler<RoutingContext> answer(int status, Function<RoutingContext, Future<JsonObject>> action) {
    return ctx -> {
      Future<JsonObject> result;
      try {
        result = action.apply(ctx);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        if (ar.failed()) HttpReplies.error(ctx, ar.cause());
        else if (ar.result() == null) HttpReplies.empty(ctx, status);
        else HttpReplies.json(ctx, status, ar.result());
      });
    };
  }

  private void failed(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    HttpReplies.error(ctx, failure != null && !(failure instanceof io.vertx.ext.web.handler.HttpException)
        ? failure
        : HttpReplies.fromStatus(ctx, ctx.statusCode()));
  }

  private static String credential(HttpServerRequest request) {
    String key = request.getHeader("x-api-key");
    if (key != null && !key.isBlank()) return key.trim();
    String auth = request.getHeader("Authorization");
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String token = auth.substring(7).trim();
      return token.isEmpty() ? null : token;
    }
    return null;
  }

  private static ServiceError missingCredential() {
    return new ServiceError(ErrorCode.UNAUTHORIZED, "no credentials: send x-api-key: <key> or Authorization: Bearer <key>");
  }
}
