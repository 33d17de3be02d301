package io.switchboard.store;

import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The {@code memory} engine: one JVM, no setup. Thread-safe: every operation on a channel runs inside
 * {@link ConcurrentHashMap#compute} for that channel, so operations on one channel are serialised (offsets can
 * never collide or skip) while different channels proceed in parallel. Futures are already completed on return, so
 * a caller on one event loop sees appends complete — and fans them out — in offset order.
 *
 * <p>A periodic sweep forgets expired channels and idempotency records so nothing grows forever.
 */
public final class MemoryMessageStore implements MessageStore {
  static final long SWEEP_INTERVAL_MS = 5_000;

  private final ConcurrentHashMap<String, MemoryChannel> channels;
  private final StoreSettings settings;
  private final Vertx vertx;
  private final long sweepTimer; // -1: a view (withSettings), which neither sweeps nor clears on close

  public MemoryMessageStore(Vertx vertx, StoreSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.channels = new ConcurrentHashMap<>();
    this.sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> sweep());
  }

  private MemoryMessageStore(MemoryMessageStore data, StoreSettings settings) {
    this.vertx = data.vertx;
    this.settings = settings;
    this.channels = data.channels;
    this.sweepTimer = -1;
  }

  /** The same data under other settings (the contract tests read one history under several limits). */
  MemoryMessageStore withSettings(StoreSettings other) {
    return new MemoryMessageStore(this, other);
  }

  @Override
  public Future<AppendResult> append(Publication publication, NamespaceOptions options, String idempotencyKey) {
    if (options.ephemeral()) return Future.failedFuture(StoreErrors.ephemeral(publication.channel()));
    long windowMs = settings.idempotencyWindowMs();
    return create(publication.channel(),
        c -> c.append(publication, options, idempotencyKey, System.currentTimeMillis(), windowMs));
  }

  @Override
  public Future<Position> position(String channel, NamespaceOptions options) {
    if (options.ephemeral()) return Future.failedFuture(StoreErrors.ephemeral(channel));
    return create(channel, c -> c.state(System.currentTimeMillis(), options.historyTtlSeconds() * 1000L));
  }

  @Override
  public Future<List<Position>> heads(List<String> names) {
    long now = System.currentTimeMillis();
    List<Position> out = new java.util.ArrayList<>(names.size());
    for (String name : names) {
      Position[] head = new Position[1];
      // computeIfPresent: serialised with the channel's other operations, and creates nothing
      channels.computeIfPresent(name, (k, c) -> {
        head[0] = c.head(now);
        return c;
      });
      out.add(head[0]);
    }
    return Future.succeededFuture(out);
  }

  @Override
  public Future<Recovery> recover(String channel, long sinceOffset, String epoch, NamespaceOptions options) {
    if (options.ephemeral()) return Future.failedFuture(StoreErrors.ephemeral(channel));
    return create(channel,
        c -> c.recover(sinceOffset, epoch, System.currentTimeMillis(), options.historyTtlSeconds() * 1000L,
            settings.maxHistoryBytes()));
  }

  @Override
  public Future<HistoryPage> history(HistoryQuery query) {
    if (query.options().ephemeral()) return Future.failedFuture(StoreErrors.ephemeral(query.channel()));
    HistoryQuery q = query.limitAtMost(settings.maxHistoryLimit());
    return create(q.channel(), c -> c.history(q, System.currentTimeMillis(), settings.maxHistoryBytes()));
  }

  @Override
  public Future<AckResult> ack(String channel, List<String> ids, String subject) {
    AckResult none = new AckResult(List.of(), List.of());
    return existing(channel, none, c -> c.ack(ids, subject, System.currentTimeMillis()));
  }

  @Override
  public Future<PendingPage> pending(String channel, String subject, Position since) {
    return existing(channel, PendingPage.NONE, c -> c.pending(subject, since, System.currentTimeMillis(),
        settings.maxHistoryBytes()));
  }

  @Override
  public Future<Void> close() {
    if (sweepTimer < 0) return Future.succeededFuture();
    vertx.cancelTimer(sweepTimer);
    channels.clear();
    return Future.succeededFuture();
  }

  /** Forgets expired state; a channel left with nothing is removed under its own lock. */
  void sweep() {
    long now = System.currentTimeMillis();
    for (String channel : channels.keySet()) {
      channels.computeIfPresent(channel, (k, c) -> c.sweep(now) ? null : c);
    }
  }

  int channelCount() {
    return channels.size();
  }

  /** Runs {@code op} on the channel (created if absent) under its lock. */
  private <T> Future<T> create(String channel, Function<MemoryChannel, T> op) {
    Object[] result = new Object[1];
    try {
      channels.compute(channel, (k, c) -> {
        MemoryChannel ch = c == null ? new MemoryChannel(k) : c;
        result[0] = op.apply(ch);
        return ch;
      });
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    @SuppressWarnings("unchecked")
    T t = (T) result[0];
    return Future.succeededFuture(t);
  }

  /** Runs {@code op} on the channel under its lock, or answers {@code absent} when it has no state at all. */
  private <T> Future<T> existing(String channel, T absent, Function<MemoryChannel, T> op) {
    Object[] result = {absent};
    try {
      channels.computeIfPresent(channel, (k, c) -> {
        result[0] = op.apply(c);
        return c;
      });
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    @SuppressWarnings("unchecked")
    T t = (T) result[0];
    return Future.succeededFuture(t);
  }
}
