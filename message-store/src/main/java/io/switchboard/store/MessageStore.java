package io.switchboard.store;

import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.vertx.core.Future;
import java.util.List;

/**
 * Per-channel history, offsets, epochs, acks and idempotency: the storage contract behind the message-store
 * service. Two engines implement it with the same behaviour ({@link MemoryMessageStore}, {@link RedisMessageStore});
 * {@code MessageStoreContract} is the test suite both pass.
 *
 * <p>Invariants every engine keeps, per channel:
 * <ul>
 *   <li>Offsets are strictly +1 per stored publication, starting at 1, never reused or skipped within an epoch.
 *   <li>The epoch is created with the channel's state and only changes when the channel's history is lost
 *       (no publish for {@code historyTtlSeconds}, or the history key vanished); offsets restart at 1 with it.
 *   <li>A publication is retained at most {@code historySize} entries and {@code historyTtlSeconds}; one whose own
 *       {@code ttl} has passed is never returned by history, recovery or pending (but does not break recovery).
 * </ul>
 * Failures are {@link io.switchboard.common.ServiceError}s: {@code rate_limited}, {@code unrecoverable_position},
 * {@code unavailable} (storage down; nothing was written).
 */
public interface MessageStore {

  /**
   * Stores a publication: stamps id, timestamp, offset and epoch. With an idempotency key, a repeat within the
   * window (same channel, source and key) answers the first result with {@code duplicate = true} and stores nothing.
   *
   * @param publication the publication to store (its id, offset, epoch and timestamp are ignored)
   * @param options the options of the channel's namespace (must not be ephemeral)
   * @param idempotencyKey null for none
   */
  Future<AppendResult> append(Publication publication, NamespaceOptions options, String idempotencyKey);

  /** Current position; creates the channel's state (so the epoch reported is the one the next append uses). */
  Future<Position> position(String channel, NamespaceOptions options);

  /**
   * The head of each channel (the offset and epoch of its newest publication), in the order asked, without creating
   * state: null for a channel the store has no state for (never read nor appended to, expired, or its history lost —
   * the next operation starts a new epoch there); a channel only read so far has its epoch at offset 0. For the gateway's tail check, which reads many quiet channels' heads at once:
   * much cheaper per channel than {@link #position}, and it never starts an epoch nobody asked for.
   */
  Future<List<Position>> heads(List<String> channels);

  /**
   * The publications after {@code sinceOffset} in offset order, or {@code recovered = false} (and none) when the
   * epoch differs, the position is ahead of the channel, or history no longer holds {@code sinceOffset + 1}. At most
   * {@code store.maxHistoryBytes} of them (at least one): {@code more = true} when cut, the rest after
   * {@link Recovery#next}.
   */
  Future<Recovery> recover(String channel, long sinceOffset, String epoch, NamespaceOptions options);

  /**
   * A page of history; fails {@code unrecoverable_position} when {@code since} names another epoch. At most
   * {@code limit} publications and {@code store.maxHistoryBytes} of encoded JSON (at least one publication):
   * {@code more = true} when the bytes cut it, to be continued from {@link HistoryPage#next}.
   */
  Future<HistoryPage> history(HistoryQuery query);

  /** Acks publications for a subject; only ids in history, requiring an ack and not expired are acked. */
  Future<AckResult> ack(String channel, List<String> ids, String subject);

  /**
   * Publications in history that require an ack and that {@code subject} has not acked yet, in offset order, after
   * {@code since} (null: all; another epoch fails {@code unrecoverable_position}); bounded like a history page.
   */
  Future<PendingPage> pending(String channel, String subject, Position since);

  /** The first page of {@link #pending(String, String, Position)}. */
  default Future<List<Publication>> pending(String channel, String subject) {
    return pending(channel, subject, null).map(PendingPage::publications);
  }

  Future<Void> close();
}
