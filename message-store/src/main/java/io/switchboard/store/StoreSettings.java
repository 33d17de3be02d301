package io.switchboard.store;

import io.vertx.core.json.JsonObject;

/**
 * Store-wide settings from the {@code store} config section.
 *
 * @param idempotencyWindowSeconds how long an idempotency key remembers its first result
 * @param maxHistoryLimit default and maximum {@code limit} of a history query
 * @param maxAckIds most ids one ack request may carry
 */
public record StoreSettings(int idempotencyWindowSeconds, int maxHistoryLimit, int maxAckIds) {
  public static final StoreSettings DEFAULT = new StoreSettings(120, 1000, 1000);

  public static StoreSettings fromConfig(JsonObject store) {
    JsonObject s = store == null ? new JsonObject() : store;
    return new StoreSettings(
        Math.max(1, s.getInteger("idempotencyWindowSeconds", DEFAULT.idempotencyWindowSeconds)),
        Math.max(1, s.getInteger("maxHistoryLimit", DEFAULT.maxHistoryLimit)),
        Math.max(1, s.getInteger("maxAckIds", DEFAULT.maxAckIds)));
  }

  long idempotencyWindowMs() {
    return idempotencyWindowSeconds * 1000L;
  }
}
