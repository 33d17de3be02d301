package io.switchboard.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Config;
import io.switchboard.common.Defaults;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The verifier's time claims and revocation, each at and past its bound. Tokens are signed here with a test key
 * exactly as the auth-service signs them; the clock is pinned so every bound is checked to the second.
 */
class TokenVerifierTest {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final long NOW = 1_800_000_000L; // epoch seconds, the pinned clock
  private static final long SKEW = Defaults.TOKEN_CLOCK_SKEW_SECONDS;
  private static final long MAX_TTL = 7200;
  private static KeyPair keys;
  private static JsonObject jwks;

  @BeforeAll
  static void keys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      keys = g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    ECPublicKey pub = (ECPublicKey) keys.getPublic();
    jwks = new JsonObject().put("keys", new JsonArray().add(new JsonObject().put("kty", "EC").put("crv", "P-256")
        .put("kid", "k1").put("alg", "ES256")
        .put("x", B64.encodeToString(fixed(pub.getW().getAffineX().toByteArray())))
        .put("y", B64.encodeToString(fixed(pub.getW().getAffineY().toByteArray())))));
  }

  private static byte[] fixed(byte[] big) {
    byte[] out = new byte[32];
    int n = Math.min(32, big.length);
    System.arraycopy(big, big.length - n, out, 32 - n, n);
    return out;
  }

  static String sign(String header, String claims) {
    try {
      String input = B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
          + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initSign(keys.getPrivate());
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(s.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String token(JsonObject claims) {
    return sign(new JsonObject().put("alg", "ES256").put("typ", "JWT").put("kid", "k1").encode(), claims.encode());
  }

  /** Claims as the auth-service mints them: issued now, valid for an hour. */
  static JsonObject claims(String sub) {
    return new JsonObject().put("iss", "switchboard").put("sub", sub).put("jti", "t-" + sub).put("iat", NOW)
        .put("exp", NOW + 3600).put("grants", new JsonArray()).put("src", "user");
  }

  static TokenVerifier verifier() {
    TokenVerifier v = new TokenVerifier("switchboard", MAX_TTL);
    v.addKeys(jwks);
    return v;
  }

  static Claims accepted(TokenVerifier v, JsonObject claims) {
    Future<Claims> f = v.verify(token(claims), NOW * 1000);
    assertTrue(f.succeeded(), () -> "refused: " + f.cause().getMessage());
    return f.result();
  }

  static ServiceError refused(TokenVerifier v, JsonObject claims, ErrorCode code, String why) {
    Future<Claims> f = v.verify(token(claims), NOW * 1000);
    assertTrue(f.failed(), "accepted " + claims.encode());
    ServiceError e = assertInstanceOf(ServiceError.class, f.cause());
    assertEquals(code, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(why), "'" + why + "' not in: " + e.getMessage());
    return e;
  }

  @Test
  @DisplayName("iat up to the clock skew ahead is accepted (and counted as now); one second more is refused")
  void iatInTheFuture() {
    TokenVerifier v = verifier();
    assertEquals(NOW, accepted(v, claims("a")).iat());
    Claims ahead = accepted(v, claims("a").put("iat", NOW + SKEW).put("exp", NOW + SKEW + 60));
    assertEquals(NOW, ahead.iat(), "clamped to the verification time");
    refused(v, claims("a").put("iat", NOW + SKEW + 1).put("exp", NOW + SKEW + 60), ErrorCode.UNAUTHORIZED,
        "issued in the future");
    refused(v, claims("a").put("iat", TokenVerifier.MAX_EPOCH_SECONDS + 1), ErrorCode.UNAUTHORIZED, "iat is out of range");
    refused(v, claims("a").put("iat", -1), ErrorCode.UNAUTHORIZED, "iat is out of range");
    JsonObject noIat = claims("a");
    noIat.remove("iat");
    refused(v, noIat, ErrorCode.UNAUTHORIZED, "no iat claim");
    refused(v, claims("a").put("iat", "yesterday"), ErrorCode.UNAUTHORIZED, "iat must be whole epoch seconds");
    refused(v, claims("a").put("iat", NOW + 0.5), ErrorCode.UNAUTHORIZED, "iat must be whole epoch seconds");
  }

  @Test
  @DisplayName("nbf up to the clock skew ahead is accepted; one second more is refused as not valid yet")
  void notBefore() {
    TokenVerifier v = verifier();
    accepted(v, claims("a").put("nbf", NOW - 100));
    accepted(v, claims("a").put("nbf", NOW + SKEW));
    refused(v, claims("a").put("nbf", NOW + SKEW + 1), ErrorCode.UNAUTHORIZED, "not valid yet");
    refused(v, claims("a").put("nbf", "soon"), ErrorCode.UNAUTHORIZED, "nbf must be whole epoch seconds");
  }

  @Test
  @DisplayName("a lifetime exp - iat of exactly auth.maxTokenTtlSeconds is accepted; one second more is refused")
  void lifetimeCappedAtTheMaximum() {
    TokenVerifier v = verifier();
    accepted(v, claims("a").put("exp", NOW + MAX_TTL));
    refused(v, claims("a").put("exp", NOW + MAX_TTL + 1), ErrorCode.UNAUTHORIZED, "exceeds auth.maxTokenTtlSeconds (7200)");
    // an old iat cannot stretch it either
    refused(v, claims("a").put("iat", NOW - 10).put("exp", NOW + MAX_TTL), ErrorCode.UNAUTHORIZED, "exceeds");
    refused(v, claims("a").put("exp", Long.MAX_VALUE), ErrorCode.UNAUTHORIZED, "exp is out of range");
    // without configuration: the default auth.maxTokenTtlSeconds (7 days)
    TokenVerifier byDefault = new TokenVerifier("switchboard");
    byDefault.addKeys(jwks);
    long week = Defaults.tree().getJsonObject("auth").getLong("maxTokenTtlSeconds");
    accepted(byDefault, claims("a").put("exp", NOW + week));
    refused(byDefault, claims("a").put("exp", NOW + week + 1), ErrorCode.UNAUTHORIZED, "exceeds");
  }

  @Test
  @DisplayName("exp at now is expired, one second later is valid")
  void expiry() {
    TokenVerifier v = verifier();
    accepted(v, claims("a").put("iat", NOW - 10).put("exp", NOW + 1));
    refused(v, claims("a").put("iat", NOW - 10).put("exp", NOW), ErrorCode.TOKEN_EXPIRED, "token expired");
  }

  @Test
  @DisplayName("the gateway's verifier takes issuer and the largest lifetime from the configuration")
  void fromConfig() {
    TokenVerifier v = TokenVerifier.fromConfig(Config.of(new JsonObject().put("auth",
        new JsonObject().put("issuer", "me").put("maxTokenTtlSeconds", 100))));
    v.addKeys(jwks);
    accepted(v, claims("a").put("iss", "me").put("exp", NOW + 100));
    refused(v, claims("a").put("iss", "me").put("exp", NOW + 101), ErrorCode.UNAUTHORIZED, "(100)");
    refused(v, claims("a").put("exp", NOW + 100), ErrorCode.UNAUTHORIZED, "issuer is not me");
  }

  @Test
  @DisplayName("a subject revocation voids tokens issued at or before it, and one whose iat lies ahead cannot escape it")
  void revocationAndFutureIat() {
    TokenVerifier v = verifier();
    // connected with a token whose iat is 50 s ahead (a fast auth clock), then revoked at NOW
    Claims connected = accepted(v, claims("bob").put("iat", NOW + 50).put("exp", NOW + 3600));
    v.revokeSubject("bob", NOW);
    assertTrue(v.revoked(connected), "the live connection is closed by the revocation");
    refused(v, claims("bob").put("iat", NOW + 50).put("exp", NOW + 3600), ErrorCode.UNAUTHORIZED, "token revoked");
    refused(v, claims("bob"), ErrorCode.UNAUTHORIZED, "token revoked");
    // a token minted after the revocation works once the clock has passed it
    String fresh = token(claims("bob").put("iat", NOW + 1).put("exp", NOW + 3600));
    assertTrue(v.verify(fresh, (NOW + 1) * 1000).succeeded());
    assertFalse(v.revoked(v.verify(fresh, (NOW + 1) * 1000).result()));
    // other subjects are untouched
    accepted(v, claims("carol"));
  }

  @Test
  @DisplayName("claims nested deeper than the JSON limit are refused as malformed, not walked")
  void deepClaims() {
    TokenVerifier v = verifier();
    int max = Defaults.MAX_JSON_DEPTH;
    String deepInfo = claims("a").encode().replace("\"src\":\"user\"", "\"src\":\"user\",\"info\":" + "[".repeat(max) + "]".repeat(max));
    Future<Claims> f = v.verify(sign("{\"alg\":\"ES256\",\"kid\":\"k1\"}", deepInfo), NOW * 1000);
    assertTrue(f.failed());
    assertEquals(ErrorCode.UNAUTHORIZED, ((ServiceError) f.cause()).code());
    assertTrue(f.cause().getMessage().contains("malformed claims"), f.cause().getMessage());
    String legalInfo = claims("a").encode().replace("\"src\":\"user\"", "\"src\":\"user\",\"info\":{\"a\":" + "[".repeat(max - 2) + "]".repeat(max - 2) + "}");
    assertTrue(v.verify(sign("{\"alg\":\"ES256\",\"kid\":\"k1\"}", legalInfo), NOW * 1000).succeeded());
    String deepHeader = "{\"alg\":\"ES256\",\"kid\":\"k1\",\"x\":" + "[".repeat(1000) + "]".repeat(1000) + "}";
    Future<Claims> h = v.verify(sign(deepHeader, claims("a").encode()), NOW * 1000);
    assertTrue(h.failed() && h.cause().getMessage().contains("malformed JWT"), String.valueOf(h.cause()));
  }

  /** Every claims naming a source type holds the same string; a token without info holds the shared empty one. */
  @Test
  void sourceTypesAreOneStringAndNoInfoIsShared() {
    org.junit.jupiter.api.Assertions.assertSame(TokenVerifier.sourceType(new String("agent-x")), TokenVerifier.sourceType(new String("agent-x")));
    org.junit.jupiter.api.Assertions.assertEquals("agent-x", TokenVerifier.sourceType(new String("agent-x")));
    TokenVerifier v = verifier();
    Claims a = accepted(v, claims("si-a"));
    Claims b = accepted(v, claims("si-b"));
    org.junit.jupiter.api.Assertions.assertSame(a.sourceType(), b.sourceType());
    org.junit.jupiter.api.Assertions.assertSame(Claims.NO_INFO, a.info());
    org.junit.jupiter.api.Assertions.assertSame(Claims.NO_INFO, b.info());
    // a token whose src is null is accepted without a source type, as before
    org.junit.jupiter.api.Assertions.assertNull(accepted(v, claims("si-c").putNull("src")).sourceType());
  }
}
