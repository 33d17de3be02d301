package io.switchboard.auth;

import io.switchboard.common.Addresses;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

/**
 * Revocations: stored first, then published on {@link Addresses#AUTH_REVOKED} so every gateway closes matching
 * connections (4003). A revocation that could not be stored is not published: the caller gets {@code unavailable}
 * and retries, and no gateway acts on something a restarted gateway would not learn from
 * {@link Addresses#AUTH_REVOCATIONS}.
 */
final class Revoker {
  private final AuthStore store;
  private final EventBus bus;
  private final int maxTokenTtlSeconds;

  Revoker(AuthStore store, EventBus bus, int maxTokenTtlSeconds) {
    this.store = store;
    this.bus = bus;
    this.maxTokenTtlSeconds = maxTokenTtlSeconds;
  }

  /** Body {@code {subject}} or {@code {tokenId, exp?}}; answers the event as published. */
  Future<JsonObject> revoke(JsonObject body) {
    boolean bySubject = body.containsKey("subject");
    boolean byToken = body.containsKey("tokenId");
    if (bySubject == byToken) {
      throw ServiceError.badRequest("give exactly one of subject or tokenId");
    }
    long now = System.currentTimeMillis() / 1000;
    if (bySubject) {
      String subject = Fields.subject(body);
      JsonObject event = new JsonObject().put("subject", subject).put("revokedAt", now);
      return store.revokeSubject(subject, now, now).map(v -> publish(event));
    }
    String jti = Fields.tokenId(body);
    Long given = Fields.epochSeconds(body, "exp");
    // No live token expires later than now + max ttl, so a later (or missing) exp is capped there.
    long exp = given == null ? now + maxTokenTtlSeconds : Math.min(given, now + maxTokenTtlSeconds);
    JsonObject event = new JsonObject().put("tokenId", jti).put("exp", exp);
    return store.revokeToken(jti, exp, now).map(v -> publish(event));
  }

  /** The reply of {@link Addresses#AUTH_REVOCATIONS}. */
  Future<JsonObject> inForce() {
    return store.revocations(System.currentTimeMillis() / 1000).map(Revocations::toJson);
  }

  private JsonObject publish(JsonObject event) {
    bus.publish(Addresses.AUTH_REVOKED, event);
    return event;
  }
}
