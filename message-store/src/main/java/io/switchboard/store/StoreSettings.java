package io.switchboard.store;

import io.switchboard.common.Defaults;
import io.vertx.core.json.JsonObject;

/**
 * Store-wide settings from the {@code store} config section.
 *
 * @param idempotencyWindowSeconds how long an idempotency key remembers its first result
 * @param maxHistoryLimit default and maximum {@code limit} of a history query
 * @param maxAckIds most ids one ack request may carry
 * @param maxHistoryBytes most encoded bytes of publications in one answer (see {@link ByteBudget})
 */
public record StoreSettings(int idempotencyWindowSeconds, int maxHistoryLimit, int maxAckIds, int maxHistoryBytes) {
  public static final StoreSettings DEFAULT = fromConfig(null);

  public StoreSettings(int idempotencyWindowSeconds, int maxHistoryLimit, int maxAckIds) {
    this(idempotencyWindowSeconds, maxHistoryLimit, maxAckIds, DEFAULT.maxHistoryBytes);
  }

  public static StoreSettings fromConfig(JsonObject store) {
    JsonObject defaults = Defaults.tree().getJsonObject("store");
    JsonObject s = store == null ? defaults : store;
    return new StoreSettings(
        Math.max(1, s.getInteger("idempotencyWindowSeconds", defaults.getInteger("idempotencyWindowSeconds"))),
        Math.max(1, s.getInteger("maxHistoryLimit", defaults.getInteger("maxHistoryLimit"))),
        Math.max(1, s.getInteger("maxAckIds", defaults.getInteger("maxAckIds"))),
        Math.max(1, s.getInteger("maxHistoryBytes", defaults.getInteger("maxHistoryBytes"))));
  }

  long idempotencyWindowMs() {
    return idempotencyWindowSeconds * 1000L;
  }
}
