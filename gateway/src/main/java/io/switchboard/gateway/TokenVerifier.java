package io.switchboard.gateway;

import io.switchboard.common.Defaults;
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
 * the bus ({@link Es256}), issuer, validity in time, and revocations. Shared by every gateway instance of a JVM, so it
 * is thread-safe: keys and revocations live in concurrent maps.
 *
 * <p>Time claims (epoch seconds; {@code skew} = {@link Defaults#TOKEN_CLOCK_SKEW_SECONDS}, for hosts whose clocks
 * differ a little):
 * <ul>
 *   <li>{@code exp} is required; at or before now the token is expired ({@code token_expired}).
 *   <li>{@code iat} is required and may not lie more than {@code skew} ahead of now: a token "issued" later than that
 *       would escape every subject revocation made before its iat.
 *   <li>{@code nbf}, when present, may not lie more than {@code skew} ahead of now (not valid yet).
 *   <li>{@code exp - iat} may not exceed {@code auth.maxTokenTtlSeconds}: no token outlives the longest lifetime the
 *       auth-service mints, whoever signed it.
 * </ul>
 * A subject revocation at {@code revokedAt} voids the subject's tokens with {@code iat <= revokedAt}. The iat kept in
 * {@link Claims} is clamped to the verification time, so a token whose iat is (within the skew) in the future is
 * treated as issued when it was accepted: every revocation made after it connected still closes it.
 */
public final class TokenVerifier {
  private final String issuer;
  private final long maxTtlSeconds;
  private final Es256 es256 = new Es256();
  /** subject → revokedAt (epoch seconds): tokens of that subject issued at or before it are void. */
  private final Map<String, Long> revokedSubjects = new ConcurrentHashMap<>();
  /** token id → its expiry (epoch seconds), after which the entry is useless and dropped. */
  private final Map<String, Long> revokedTokens = new ConcurrentHashMap<>();

  /**
   * @param issuer the required {@code iss} ("" = any)
   * @param maxTtlSeconds the largest {@code exp - iat} accepted (auth.maxTokenTtlSeconds)
   */
  public TokenVerifier(String issuer, long maxTtlSeconds) {
    this.issuer = issuer;
    this.maxTtlSeconds = maxTtlSeconds;
  }

  /** With the default auth.maxTokenTtlSeconds; prefer {@link #fromConfig}. */
  public TokenVerifier(String issuer) {
    this(issuer, Defaults.tree().getJsonObject("auth").getLong("maxTokenTtlSeconds"));
  }

  /** From the whole configuration: {@code auth.issuer} and {@code auth.maxTokenTtlSeconds}. */
  public static TokenVerifier fromConfig(JsonObject config) {
    JsonObject defaults = Defaults.tree().getJsonObject("auth");
    JsonObject auth = config.getJsonObject("auth", defaults);
    return new TokenVerifier(auth.getString("issuer", defaults.getString("issuer")),
        auth.getLong("maxTokenTtlSeconds", defaults.getLong("maxTokenTtlSeconds")));
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
   * Verifies a token: signature (ES256, keys from the auth-service), issuer, time claims, revocation. Fails with
   * {@code unauthorized} (the message says what: malformed, bad signature, not valid yet, revoked…) or
   * {@code token_expired}. Runs on the caller's thread: one ECDSA verification, tens of microseconds.
   */
  public Future<Claims> verify(String token) {
    return verify(token, System.currentTimeMillis());
  }

  /** {@link #verify(String)} at a given time (tests pin the clock to check each bound exactly). */
  Future<Claims> verify(String token, long nowMillis) {
    if (!hasKeys()) return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "token keys not loaded yet"));
    if (token == null || token.isEmpty()) return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "token is missing"));
    try {
      JsonObject p = es256.verify(token);
      if (!issuer.isEmpty() && !issuer.equals(p.getString("iss"))) {
        throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: issuer is not " + issuer);
      }
      Claims c = toClaims(p, nowMillis / 1000);
      if (c.expiredAt(nowMillis)) return Future.failedFuture(new ServiceError(ErrorCode.TOKEN_EXPIRED, "token expired"));
      if (revoked(c)) return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "token revoked"));
      return Future.succeededFuture(c);
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    } catch (RuntimeException e) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token claims: " + e.getMessage()));
    }
  }

  private Claims toClaims(JsonObject p, long now) {
    String sub = p.getString("sub");
    if (sub == null || sub.isEmpty()) throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: no sub claim");
    long exp = seconds(p, "exp");
    long iat = seconds(p, "iat");
    long skew = Defaults.TOKEN_CLOCK_SKEW_SECONDS;
    if (iat > now + skew) {
      throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: issued in the future (iat " + iat + " is "
          + (iat - now) + " s ahead of this server's clock; at most " + skew + " s of clock skew is allowed)");
    }
    if (p.containsKey("nbf")) {
      long nbf = seconds(p, "nbf");
      if (nbf > now + skew) {
        throw new ServiceError(ErrorCode.UNAUTHORIZED, "token not valid yet (nbf " + nbf + " is " + (nbf - now)
            + " s ahead of this server's clock; at most " + skew + " s of clock skew is allowed)");
      }
    }
    if (exp - iat > maxTtlSeconds) {
      throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: lifetime exp - iat of " + (exp - iat)
          + " s exceeds auth.maxTokenTtlSeconds (" + maxTtlSeconds + ")");
    }
    Grants grants;
    try {
      grants = Grants.parse(p.getValue("grants"), "grants");
    } catch (ServiceError e) {
      throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + e.getMessage());
    }
    Object info = p.getValue("info");
    // clamped: a token accepted now counts as issued no later than now, so later revocations always reach it
    return new Claims(sub, p.getString("jti"), Math.min(iat, now), exp, grants,
        sourceType(p.getString("src", "user")), info instanceof JsonObject o && !o.isEmpty() ? o : Claims.NO_INFO);
  }

  /** Source types seen, each one string for every claims that names it (a token's {@code src} is one of a few). */
  private static final Map<String, String> SOURCE_TYPES = new ConcurrentHashMap<>();
  private static final int MAX_SOURCE_TYPES = 256;

  /** {@code src} as one string per distinct value (not a copy per connection: ~48 B each), up to a bound. */
  static String sourceType(String src) {
    if (src == null) return null; // "src": null — accepted as before, no source type
    String known = SOURCE_TYPES.get(src);
    if (known != null) return known;
    if (SOURCE_TYPES.size() >= MAX_SOURCE_TYPES) return src;
    known = SOURCE_TYPES.putIfAbsent(src, src);
    return known != null ? known : src;
  }

  /** A required whole-number time claim in epoch seconds. */
  private static long seconds(JsonObject p, String claim) {
    Object v = p.getValue(claim);
    if (v == null) throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: no " + claim + " claim");
    if (!(v instanceof Integer || v instanceof Long)) {
      throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + claim + " must be whole epoch seconds");
    }
    long n = ((Number) v).longValue();
    // far beyond any real date, and small enough that exp * 1000 and exp - iat cannot overflow
    if (n < 0 || n > MAX_EPOCH_SECONDS) {
      throw new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + claim + " is out of range");
    }
    return n;
  }

  /** 9999-12-31T23:59:59Z. */
  static final long MAX_EPOCH_SECONDS = 253_402_300_799L;
}
