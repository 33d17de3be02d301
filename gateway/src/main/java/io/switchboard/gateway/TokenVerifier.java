package io.switchboard.gateway;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies tokens locally (no per-connection hop): signatures against the auth-service's public keys received over
 * the bus ({@link Es256}), issuer, expiry, and revocations. Shared by every gateway instance of a JVM, so it is
 * thread-safe: keys and revocations live in concurrent maps.
 */
public final class TokenVerifier {
  private final String issuer;
  private final Es256 es256 = new Es256();
  /** subject → revokedAt (epoch seconds): tokens of that subject issued at or before it are void. */
  private final Map<String, Long> revokedSubjects = new ConcurrentHashMap<>();
  /** token id → its expiry (epoch seconds), after which the entry is useless and dropped. */
  private final Map<String, Long> revokedTokens = new ConcurrentHashMap<>();

  public TokenVerifier(String issuer) {
    this.issuer = issuer;
  }

  /** Adds the keys of a JWKS ({@code {keys:[…]}}); keys are never dropped, so tokens of every auth node verify. */
  public void addKeys(JsonObject jwks) {
    JsonArray keys = jwks.getJsonArray("keys", new JsonArray());
    for (int i = 0; i < keys.size(); i++) {
      try {
        es256.addJwk(keys.getJsonObject(i));
      } catch (java.security.GeneralSecurityException | RuntimeException e) {
        System.getLogger(TokenVerifier.class.getName()).log(System.Logger.Level.WARNING, "gateway: unusable key in JWKS: " + e);
      }
    }
  }

  public boolean hasKeys() {
    return es256.hasKeys();
  }

  public void revokeSubject(String subject, long revokedAt) {
    revokedSubjects.merge(subject, revokedAt, Math::max);
  }

  public void revokeToken(String tokenId, long exp) {
    revokedTokens.put(tokenId, exp);
  }

  /** Loads the revocations answer of {@code auth.revocations}. */
  public void loadRevocations(JsonObject r) {
    JsonObject subjects = r.getJsonObject("subjects", new JsonObject());
    for (String s : subjects.fieldNames()) revokeSubject(s, subjects.getLong(s));
    JsonObject tokens = r.getJsonObject("tokens", new JsonObject());
    for (String t : tokens.fieldNames()) revokeToken(t, tokens.getLong(t));
  }

  public boolean revoked(Claims c) {
    Long at = revokedSubjects.get(c.subject());
    if (at != null && c.iat() <= at) return true;
    return c.tokenId() != null && revokedTokens.containsKey(c.tokenId());
  }

  /** Forgets token revocations whose tokens have expired anyway. */
  public void dropExpired(long nowSeconds) {
    revokedTokens.values().removeIf(exp -> exp < nowSeconds);
  }

  /**
   * Verifies a token: signature (ES256, keys from the auth-service), issuer, expiry, revocation. Fails with
   * {@code unauthorized} (the message says what: malformed, bad signature, revoked…) or {@code token_expired}.
   * Runs on the caller's thread: one ECDSA verification, tens of microseconds.
   */
  public Future<Claims> verify(String token) {
    if (!hasKeys()) return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "token keys not loaded yet"));
    if (token == null || token.isEmpty()) return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "token is missing"));
    try {
      JsonObject p = es256.verify(token);
      if (!issuer.isEmpty() && !issuer.equals(p.getString("iss"))) {
        throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: issuer is not " + issuer);
      }
      Claims c = toClaims(p);
      if (c.expiredAt(System.currentTimeMillis())) return Future.failedFuture(new ServiceError(ErrorCode.TOKEN_EXPIRED, "token expired"));
      if (revoked(c)) return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "token revoked"));
      return Future.succeededFuture(c);
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    } catch (RuntimeException e) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token claims: " + e.getMessage()));
    }
  }

  private static Claims toClaims(JsonObject p) {
    String sub = p.getString("sub");
    if (sub == null || sub.isEmpty()) throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: no sub claim");
    Long exp = p.getLong("exp");
    if (exp == null) throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: no exp claim");
    Grants grants;
    try {
      grants = Grants.parse(p.getValue("grants"), "grants");
    } catch (ServiceError e) {
      throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + e.getMessage());
    }
    Object info = p.getValue("info");
    return new Claims(sub, p.getString("jti"), p.getLong("iat", 0L), exp, grants,
        p.getString("src", "user"), info instanceof JsonObject o ? o : new JsonObject());
  }
}
