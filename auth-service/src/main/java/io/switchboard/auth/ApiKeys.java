package io.switchboard.auth;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** Creating, deleting and checking API keys. The key string is returned once by {@link #create} and never stored. */
final class ApiKeys {
  static final String DEFAULT_SOURCE_TYPE = "service";

  private final AuthStore store;
  private final int maxTokenTtlSeconds;

  ApiKeys(AuthStore store, int maxTokenTtlSeconds) {
    this.store = store;
    this.maxTokenTtlSeconds = maxTokenTtlSeconds;
  }

  /** Body {@code {subject, sourceType?, ttl?, channels?, grants}} → {@code {id, key}}. */
  Future<JsonObject> create(JsonObject body) {
    String subject = Fields.subject(body);
    String sourceType = Fields.sourceType(body, DEFAULT_SOURCE_TYPE);
    int ttl = Fields.ttl(body, 0, maxTokenTtlSeconds);
    JsonObject channels = Fields.channels(body, subject);
    // Validated with {sub} filled (so the subject cannot make a pattern invalid), stored as the template.
    Fields.grants(body, subject);
    Grants template = Grants.parse(body.getValue("grants"), "grants");
    String id = Secrets.newKeyId();
    String key = Secrets.newKey(id);
    ApiKey record = new ApiKey(id, Secrets.hash(key), subject, sourceType, ttl, channels.copy(), template.toJson(),
        System.currentTimeMillis() / 1000);
    return store.putKey(record).map(v -> new JsonObject().put("id", id).put("key", key));
  }

  /** Deletes the key; {@code not_found} when there is none with this id. */
  Future<Void> delete(String id) {
    return store.deleteKey(id).compose(existed -> existed
        ? Future.succeededFuture()
        : Future.failedFuture(new ServiceError(ErrorCode.NOT_FOUND, "no API key with id " + id)));
  }

  /** The stored key a presented key string belongs to; {@code unauthorized} when unknown, deleted or wrong. */
  Future<ApiKey> verify(String presented) {
    String id = Secrets.idOf(presented);
    if (id == null) return Future.failedFuture(unknown());
    return store.key(id).compose(k -> k != null && Secrets.matchesHash(presented, k.keyHash())
        ? Future.succeededFuture(k)
        : Future.failedFuture(unknown()));
  }

  private static ServiceError unknown() {
    return new ServiceError(ErrorCode.UNAUTHORIZED, "unknown or deleted API key");
  }
}
