package io.switchboard.gateway;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies tokens locally (no per-connection hop): signatures against the auth-service's public keys received over
 * the bus, expiry, and revocations. Shared by every gateway instance of a JVM, so it is thread-safe: the key set is
 * swapped atomically, revocations live in concurrent maps.
 */
final class TokenVerifier {
  private final Vertx vertx;
  private final String issuer;
  private final Map<String, JsonObject> keysById = new LinkedHashMap<>();
  private volatile JWTAuth jwt;
  /** subject → revokedAt (epoch seconds): tokens of that subject issued at or before it are void. */
  private final Map<String, Long> revokedSubjects = new ConcurrentHashMap<>();
  /** token id → its expiry (epoch seconds), after which the entry is useless and dropped. */
  private final Map<String, Long> revokedTokens = new ConcurrentHashMap<>();

  TokenVerifier(Vertx vertx, String issuer) {
    this.vertx = vertx;
    this.issuer = issuer;
  }

  /** Adds the keys of a JWKS ({@code {keys:[…]}}); keys are never dropped, so tokens of every auth node verify. */
  synchronized void addKeys(JsonObject jwks) {
    JsonArray keys = jwks.getJsonArray("keys", new JsonArray());
    for (int i = 0; i < keys.size(); i++) {
      JsonObject k = keys.getJsonObject(i);
      keysById.put(k.getString("kid", "key-" + i), k);
    }
    JWTAuthOptions options = new JWTAuthOptions()
        .setJwks(List.copyOf(keysById.values()))
        // expiry is checked by Claims so the client can be told token_expired, not just "invalid"
        .setJWTOptions(new JWTOptions().setIgnoreExpiration(true).setIssuer(issuer.isEmpty() ? null : issuer));
    jwt = JWTAuth.create(vertx, options);
  }

  boolean hasKeys() {
    return jwt != null;
  }

  void revokeSubject(String subject, long revokedAt) {
    revokedSubjects.merge(subject, revokedAt, Math::max);
  }

  void revokeToken(String tokenId, long exp) {
    revokedTokens.put(tokenId, exp);
  }

  /** Loads the revocations answer of {@code auth.revocations}. */
  void loadRevocations(JsonObject r) {
    JsonObject subjects = r.getJsonObject("subjects", new JsonObject());
    for (String s : subjects.fieldNames()) revokeSubject(s, subjects.getLong(s));
    JsonObject tokens = r.getJsonObject("tokens", new JsonObject());
    for (String t : tokens.fieldNames()) revokeToken(t, tokens.getLong(t));
  }

  boolean revoked(Claims c) {
    Long at = revokedSubjects.get(c.subject());
    if (at != null && c.iat() <= at) return true;
    return c.tokenId() != null && revokedTokens.containsKey(c.tokenId());
  }

  /** Forgets token revocations whose tokens have expired anyway. */
  void dropExpired(long nowSeconds) {
    revokedTokens.values().removeIf(exp -> exp < nowSeconds);
  }

  /**
   * Verifies a token. Fails with {@code unauthorized} (bad signature, malformed, revoked → message says which) or
   * {@code token_expired}.
   */
  Future<Claims> verify(String token) {
    JWTAuth auth = jwt;
    if (auth == null) return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "token keys not loaded yet"));
    if (token == null || token.isEmpty()) return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "token is missing"));
    return auth.authenticate(new TokenCredentials(token))
        .recover(t -> Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + t.getMessage())))
        .compose(user -> {
          // the decoded claims as signed (principal() drops exp/iat)
          JsonObject p = user.attributes().getJsonObject("accessToken", user.principal());
          Claims c;
          try {
            c = toClaims(p);
          } catch (ServiceError e) {
            return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + e.getMessage()));
          } catch (RuntimeException e) {
            return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token claims: " + e.getMessage()));
          }
          if (c.expiredAt(System.currentTimeMillis())) {
            return Future.failedFuture(new ServiceError(ErrorCode.TOKEN_EXPIRED, "token expired"));
          }
          if (revoked(c)) return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "token revoked"));
          return Future.succeededFuture(c);
        });
  }

  private static Claims toClaims(JsonObject p) {
    String sub = p.getString("sub");
    if (sub == null || sub.isEmpty()) throw new ServiceError(ErrorCode.UNAUTHORIZED, "no sub claim");
    Long exp = p.getLong("exp");
    if (exp == null) throw new ServiceError(ErrorCode.UNAUTHORIZED, "no exp claim");
    Grants grants = Grants.parse(p.getValue("grants"), "grants");
    Object info = p.getValue("info");
    return new Claims(sub, p.getString("jti"), p.getLong("iat", 0L), exp, grants,
        p.getString("src", "user"), info instanceof JsonObject o ? o : new JsonObject());
  }
}
