package io.switchboard.auth;

import io.switchboard.common.Grants;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * The two ways to get a token: the app backend with the admin key (any subject, grants in the body) and a holder of
 * an API key (the key's subject and policy).
 *
 * <p>Invariant: a token minted after a subject revocation is valid. Revocation compares whole seconds
 * ({@code iat <= revokedAt} is revoked), so a token minted in the same second as a revocation of its subject would
 * be born dead; minting waits for the next second instead (at most one second, only right after a revocation).
 * The wait is capped: a revocation stamped by an auth instance whose clock runs ahead must not stall minting.
 */
final class Tokens {
  static final String ADMIN_SOURCE_TYPE = "user";
  private static final long MAX_WAIT_MS = 2_000;

  private final Vertx vertx;
  private final AuthStore store;
  private final TokenMinter minter;
  private final ApiKeys apiKeys;
  private final int defaultTtl;
  private final int maxTtl;

  Tokens(Vertx vertx, AuthStore store, TokenMinter minter, ApiKeys apiKeys, int defaultTtl, int maxTtl) {
    this.vertx = vertx;
    this.store = store;
    this.minter = minter;
    this.apiKeys = apiKeys;
    this.defaultTtl = defaultTtl;
    this.maxTtl = maxTtl;
  }

  /** Body {@code {subject, grants, ttl?, info?, sourceType?}}. */
  Future<JsonObject> forAdmin(JsonObject body) {
    String subject = Fields.subject(body);
    Grants grants = Fields.grants(body, subject);
    int ttl = Fields.ttl(body, defaultTtl, maxTtl);
    JsonObject info = Fields.info(body);
    String src = Fields.sourceType(body, ADMIN_SOURCE_TYPE);
    return mint(new TokenMinter.Spec(subject, grants, ttl, src, info, new JsonObject()));
  }

  /** A token from the key's policy; the body (read only once the key is verified) may add {@code info}. */
  Future<JsonObject> forKey(String presentedKey, Buffer rawBody) {
    return apiKeys.verify(presentedKey).compose(key -> {
      JsonObject info = Fields.info(Fields.body(rawBody, true));
      Grants grants = Grants.parse(key.grants(), "grants").withSubject(key.subject());
      int ttl = key.ttl() > 0 ? Math.min(key.ttl(), maxTtl) : defaultTtl;
      JsonObject channels = Fields.fillChannels(key.channels(), key.subject());
      return mint(new TokenMinter.Spec(key.subject(), grants, ttl, key.sourceType(), info, channels));
    });
  }

  private Future<JsonObject> mint(TokenMinter.Spec spec) {
    long nowMillis = System.currentTimeMillis();
    return store.subjectRevokedAt(spec.subject(), nowMillis / 1000).compose(revokedAt -> {
      if (revokedAt == null || revokedAt < nowMillis / 1000) return Future.succeededFuture();
      return vertx.timer(Math.min(MAX_WAIT_MS, (revokedAt + 1) * 1000 - nowMillis), TimeUnit.MILLISECONDS);
    }).map(v -> minter.mint(spec, System.currentTimeMillis() / 1000));
  }
}
