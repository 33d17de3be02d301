package io.switchboard.auth;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * The revocations in force: subject → revokedAt (tokens of the subject with {@code iat <= revokedAt} are invalid)
 * and token id → exp (the revocation is forgotten once the token would have expired). Epoch seconds throughout.
 */
record Revocations(Map<String, Long> subjects, Map<String, Long> tokens) {
  Revocations {
    subjects = Map.copyOf(subjects);
    tokens = Map.copyOf(tokens);
  }

  /** The reply of {@code Addresses.AUTH_REVOCATIONS}: {@code {subjects:{sub:revokedAt}, tokens:{jti:exp}}}. */
  JsonObject toJson() {
    JsonObject s = new JsonObject();
    subjects.forEach(s::put);
    JsonObject t = new JsonObject();
    tokens.forEach(t::put);
    return new JsonObject().put("subjects", s).put("tokens", t);
  }
}
