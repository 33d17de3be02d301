package io.switchboard.auth;

import io.switchboard.common.Addresses;
import io.switchboard.common.ServiceError;
import io.vertx.core.eventbus.Message;
import io.switchboard.common.BusReplies;
import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;

/**
 * The auth-service: mints ES256 tokens, manages API keys and revocations over HTTP, and serves the public keys and
 * the revocations in force on the event bus so gateways verify tokens locally.
 *
 * <p>Bus contract: {@link Addresses#AUTH_KEYS} and {@link Addresses#AUTH_REVOCATIONS} answer requests;
 * {@link Addresses#AUTH_KEYS_CHANGED} is published once the verticle is up, {@link Addresses#AUTH_REVOKED} on every
 * revocation.
 */
public class AuthVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(AuthVerticle.class.getName());

  private AuthStore store;
  private HttpServer server;

  public AuthVerticle() {}

  @Override
  public Future<?> start() {
    AuthSettings settings;
    try {
      settings = AuthSettings.from(config());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return sharedGeneratedPair(settings)
        .compose(pair -> vertx.executeBlocking(() -> SigningKeys.load(vertx, settings, pair)))
        // the signer on a worker too: its first use loads Conscrypt's native library (seconds on a busy machine)
        .compose(keys -> vertx.executeBlocking(keys::es256Signer).compose(signer -> serve(settings, keys, signer)));
  }

  /**
   * On the redis engine with no configured key pair, every auth JVM must sign with the same generated key, or a
   * gateway that learned one JVM's key rejects tokens of another: the first JVM stores its generated pair in Redis
   * ({@code SET NX}) and all use the one stored. (Configure auth.privateKeyPem/publicKeyPem to keep the private key
   * out of Redis.) Memory engine: null, the pair is per JVM.
   */
  private Future<JsonObject> sharedGeneratedPair(AuthSettings settings) {
    if (!"redis".equals(settings.engine()) || !settings.privateKeyPem().isEmpty() || !settings.publicKeyPem().isEmpty()) {
      return Future.succeededFuture(null);
    }
    RedisConnector redis = RedisConnector.create(vertx, settings.redis());
    String key = RedisAuthStore.PREFIX + "signing-key";
    return vertx.executeBlocking(SigningKeys::generatePems)
        .compose(mine -> redis.send(Request.cmd(Command.SET).arg(key).arg(mine.encode()).arg("NX")))
        .compose(v -> redis.send(Request.cmd(Command.GET).arg(key)))
        .map(r -> new JsonObject(r.toString()))
        .eventually(() -> {
          redis.close();
          return Future.succeededFuture();
        });
  }

  private Future<?> serve(AuthSettings settings, SigningKeys keys, Es256Signer signer) {
    if (keys.generated()) {
      LOG.log(System.Logger.Level.INFO, "auth: generated an ES256 signing key (kid " + keys.kid() + "); configure "
          + "auth.privateKeyPem/publicKeyPem to keep tokens valid across restarts and JVMs");
    }
    store = createStore(settings);
    EventBus bus = vertx.eventBus();
    ApiKeys apiKeys = new ApiKeys(store, settings.maxTokenTtlSeconds());
    TokenMinter minter = new TokenMinter(signer, settings.issuer());
    Tokens tokens = new Tokens(vertx, store, minter, apiKeys, settings.tokenTtlSeconds(), settings.maxTokenTtlSeconds());
    Revoker revoker = new Revoker(store, bus, settings.maxTokenTtlSeconds());
    AuthRoutes routes = new AuthRoutes(settings.adminKey(), keys, apiKeys, tokens, revoker);

    JsonObject jwks = keys.jwks();
    // every consumer answers whatever happens (BusReplies)
    Future<Void> keysConsumer = BusReplies.<Object>serve(bus, Addresses.AUTH_KEYS, msg -> Future.succeededFuture(jwks.copy()))
        .completion();
    Future<Void> revocationsConsumer = BusReplies.<Object>serve(bus, Addresses.AUTH_REVOCATIONS, msg -> revoker.inForce())
        .completion();
    Future<Void> adminConsumer = bus.<JsonObject>consumer(Addresses.AUTH_ADMIN, msg -> answerAdmin(apiKeys, tokens, revoker, msg))
        .completion();
    Future<Void> keyVerifyConsumer = bus.<JsonObject>consumer(Addresses.AUTH_KEY_VERIFY,
        msg -> answerKeyVerify(settings.adminKey(), apiKeys, msg)).completion();
    Future<HttpServer> listening = vertx.createHttpServer()
        .requestHandler(io.switchboard.common.AccessLog.wrap(config(), "auth", routes.router(vertx)))
        .listen(settings.port(), settings.host())
        .onSuccess(s -> server = s);
    return Future.all(java.util.List.of(keysConsumer, revocationsConsumer, adminConsumer, keyVerifyConsumer, listening)).onFailure(e -> store.close()).onSuccess(v -> {
      LOG.log(System.Logger.Level.INFO, "auth: listening on " + settings.host() + ":" + server.actualPort()
          + " (engine " + settings.engine() + ")");
      bus.publish(Addresses.AUTH_KEYS_CHANGED, jwks.copy());
    });
  }

  private AuthStore createStore(AuthSettings settings) {
    if ("redis".equals(settings.engine())) {
      return new RedisAuthStore(RedisConnector.create(vertx, settings.redis()), RedisAuthStore.PREFIX,
          settings.maxTokenTtlSeconds());
    }
    return new MemoryAuthStore(vertx, settings.maxTokenTtlSeconds());
  }

  /** {@link Addresses#AUTH_ADMIN}: one admin action, audited in the log with who asked. */
  private static void answerAdmin(ApiKeys apiKeys, Tokens tokens, Revoker revoker, Message<JsonObject> msg) {
    JsonObject req = msg.body() == null ? new JsonObject() : msg.body();
    String action = req.getString("action", "");
    String by = req.getString("by", "unknown");
    JsonObject body = req.getJsonObject("body", new JsonObject());
    Future<JsonObject> result;
    try {
      result = switch (action) {
        case "token" -> tokens.forAdmin(body);
        case "key.create" -> apiKeys.create(body);
        case "key.delete" -> apiKeys.delete(body.getString("id", "")).map(v -> new JsonObject());
        case "revoke" -> revoker.revoke(body);
        default -> Future.failedFuture(ServiceError.badRequest("unknown admin action '" + action + "' (token, key.create, key.delete, revoke)"));
      };
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      String target = body.getString("subject", body.getString("id", body.getString("tokenId", "")));
      LOG.log(ar.succeeded() ? System.Logger.Level.INFO : System.Logger.Level.WARNING, "auth: admin " + action
          + (ar.succeeded() ? "" : " failed: " + ar.cause().getMessage()),
          io.switchboard.common.LogFields.of("by", by, io.switchboard.common.LogFields.SUBJECT, target.isEmpty() ? null : target));
      if (ar.succeeded()) msg.reply(ar.result());
      else ServiceError.from(ar.cause(), "auth admin").failReply(msg);
    });
  }

  /** {@code {key}} → {@code {admin:true}} or the API key's identity and filled-in grants (see Addresses). */
  private static void answerKeyVerify(String adminKey, ApiKeys apiKeys, Message<JsonObject> msg) {
    String presented = msg.body() == null ? null : msg.body().getString("key");
    if (presented == null || presented.isEmpty()) {
      new ServiceError(io.switchboard.common.ErrorCode.UNAUTHORIZED, "no key given").failReply(msg);
      return;
    }
    if (!adminKey.isEmpty() && Secrets.same(presented, adminKey)) {
      msg.reply(new JsonObject().put("admin", true));
      return;
    }
    apiKeys.verify(presented).onComplete(ar -> {
      if (ar.failed()) {
        ServiceError.failReply(msg, ar.cause());
        return;
      }
      ApiKey k = ar.result();
      msg.reply(new JsonObject().put("admin", false).put("id", k.id()).put("subject", k.subject())
          .put("sourceType", k.sourceType())
          .put("grants", io.switchboard.common.Grants.parse(k.grants(), "grants").withSubject(k.subject()).toJson()));
    });
  }

  /** The port the HTTP server is bound to (useful when configured with port 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return store == null ? Future.succeededFuture() : store.close();
  }
}
