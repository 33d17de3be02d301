package io.switchboard.gateway;

import io.switchboard.common.Grants;
import io.vertx.core.json.JsonObject;

/**
 * What a verified token says about its holder. Grants are parsed once here and consulted on every operation.
 *
 * @param iat issued-at, epoch seconds, clamped to the time the token was accepted (subject revocations void tokens
 *     issued at or before the revocation; see {@link TokenVerifier})
 * @param exp expiry, epoch seconds
 */
public record Claims(String subject, String tokenId, long iat, long exp, Grants grants, String sourceType, JsonObject info) {

  public boolean expiredAt(long nowMillis) {
    return exp * 1000L <= nowMillis;
  }
}
