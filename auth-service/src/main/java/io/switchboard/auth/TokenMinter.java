package io.switchboard.auth;

import io.switchboard.common.Grants;
import io.switchboard.common.Ids;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * Signs tokens. The claims are set here, not by vertx-auth-jwt's options, so that {@code exp - iat} is exactly the
 * ttl and every claim the gateways read is visible in one place: sub, iat, exp, jti, iss, grants, src, info.
 */
final class TokenMinter {
  /** What a token is for; {@code grants} and {@code channels} already have {@code {sub}} filled in. */
  record Spec(String subject, Grants grants, int ttl, String sourceType, JsonObject info, JsonObject channels) {}

  private final Es256Signer signer;
  private final String issuer;

  TokenMinter(Es256Signer signer, String issuer) {
    this.signer = signer;
    this.issuer = issuer;
  }

  /** The answer of POST /v1/tokens: {@code {token, ttl, expiresAt, subject, grants, channels}}. */
  JsonObject mint(Spec spec, long iat) {
    long exp = iat + spec.ttl();
    JsonObject claims = new JsonObject()
        .put("sub", spec.subject())
        .put("iat", iat)
        .put("exp", exp)
        .put("jti", Ids.ulid(System.currentTimeMillis()))
        .put("iss", issuer)
        .put("grants", spec.grants().toJson())
        .put("src", spec.sourceType());
    if (spec.info() != null) claims.put("info", spec.info());
    String token = signer.sign(claims);
    return new JsonObject()
        .put("token", token)
        .put("ttl", spec.ttl())
        .put("expiresAt", Instant.ofEpochSecond(exp).toString())
        .put("subject", spec.subject())
        .put("grants", spec.grants().toJson())
        .put("channels", spec.channels());
  }
}
