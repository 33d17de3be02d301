package io.switchboard.presence;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The queue of webhook deliveries still to make. An item is one event for one webhook target:
 * {@code {app, url, event:{name, channel, …}, at, attempts, hold?}} ({@code at}: when it was queued, epoch millis).
 *
 * <p>Items are claimed with a lease: a claimed item stays queued, due again at the lease's end, until the sender
 * reports it {@link #done} or reschedules it ({@link #retry}). So a sender that dies mid-delivery loses nothing: another
 * (or the restarted one) delivers it after the lease (at least once). Held items (Pusher's delay of
 * {@code channel_vacated}/{@code member_removed}) can be cancelled by the opposite event until they are claimed.
 */
interface WebhookQueue {

  /** How {@link #enqueue} treats the hold key. */
  enum Kind {
    /** Due at once. */
    PLAIN,
    /** Due at {@code dueAt}; until claimed, a {@link #CANCEL} with the same key drops it. */
    HOLD,
    /** Drops the items held under the key, and then queues nothing; without held items, due at once. */
    CANCEL
  }

  /** A claimed item: its id in the queue and its JSON. */
  record Claimed(String id, JsonObject item) {}

  /**
   * Queues one event's items (one per interested target; may be empty, which still cancels for {@link Kind#CANCEL}).
   *
   * @return false when a {@link Kind#CANCEL} dropped held items (the pair is gone), else true
   */
  Future<Boolean> enqueue(List<JsonObject> items, Kind kind, String holdKey, long now, long dueAt);

  /** Up to {@code max} items due at {@code now}, leased until {@code leaseUntil}; an item is claimed by one caller. */
  Future<List<Claimed>> claim(long now, int max, long leaseUntil);

  /** Removes delivered (or given-up) items. */
  Future<Void> done(List<String> ids);

  /** Replaces the items' JSON (their attempts) and makes them due at {@code dueAt}. */
  Future<Void> retry(List<Claimed> items, long dueAt);

  Future<Void> close();

  /** Items queued, due or held or claimed (the metrics' switchboard_webhook_queue_depth). */
  Future<Long> depth();

  /** The engine named by the config: the JVM-wide memory queue, or Redis (durable across restarts). */
  static WebhookQueue create(Vertx vertx, JsonObject config) {
    if ("redis".equals(config.getString("engine"))) {
      return new RedisWebhookQueue(RedisConnector.create(vertx, config.getJsonObject("redis")));
    }
    return MemoryWebhookQueue.shared(vertx);
  }
}
