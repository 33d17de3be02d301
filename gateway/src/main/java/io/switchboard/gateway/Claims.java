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

  /**
   * The info of every token that carries none (most do not): one shared, read-only empty object instead of an empty
   * map per connection (~72 B each). Info is never written after verification; a write would throw, not leak.
   */
  public static final JsonObject NO_INFO = new JsonObject(java.util.Collections.emptyMap());

  public boolean expiredAt(long nowMillis) {
    return exp * 1000L <= nowMillis;
  }
}
