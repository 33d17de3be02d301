package io.switchboard.store;

import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything the memory engine keeps for one channel. Not thread-safe: {@link MemoryMessageStore} only touches it
 * inside {@code ConcurrentHashMap.compute} for its channel, which serialises all operations on one channel.
 *
 * <p>The channel state (epoch, offset, entries, acks) lives until {@code expiresAt} = last append (or creation) +
 * historyTtl; after that the history is lost and the next operation starts a new epoch at offset 0. Idempotency
 * records and the rate window live outside that state, with their own expiry, like the Redis keys do.
 */
final class MemoryChannel {
  private record FirstResult(String id, long offset, String epoch, long timestamp, long expiresAt) {}

  private final String name;
  private String epoch; // null: no state
  private long offset;
  private long expiresAt;
  /** Retained entries, contiguous offsets ascending. */
  private final EntryLog entries = new EntryLog();
  /** id → offset of retained entries that require an ack. */
  private final Map<String, Long> ackable = new HashMap<>();
  /** subject → ids it acked, all of them in {@link #ackable}. */
  private final Map<String, Set<String>> acks = new HashMap<>();
  private final Map<String, FirstResult> idempotency = new HashMap<>();
  private long rateWindowEnd;
  private int rateCount;

  MemoryChannel(String name) {
    this.name = name;
  }

  /** The current position, or null when the channel has no state (or it expired); creates nothing. */
  Position head(long now) {
    return epoch == null || now >= expiresAt ? null : new Position(offset, epoch);
  }

  /** The current position, creating the state (and its epoch) when there is none or it expired. */
  Position state(long now, long ttlMs) {
    expire(now);
    if (epoch == null) {
      epoch = Ids.hex(8);
      offset = 0;
      expiresAt = now + ttlMs;
    }
    return new Position(offset, epoch);
  }

  AppendResult append(Publication p, NamespaceOptions o, String idempotencyKey, long now, long windowMs) {
    String scope = idempotencyKey == null ? null : p.sourceType() + "\u0000" + p.sourceId() + "\u0000" + idempotencyKey;
    FirstResult first = scope == null ? null : idempotency.get(scope);
    if (first != null && first.expiresAt > now) {
      return new AppendResult(p.withPosition(first.id, first.offset, first.epoch, first.timestamp), true);
    }
    int perSecond = o.publishRatePerSecond();
    if (perSecond > 0) {
      if (now >= rateWindowEnd) {
        rateWindowEnd = now + 1000;
        rateCount = 0;
      }
      if (rateCount >= perSecond) throw StoreErrors.rateLimited(name, perSecond, rateWindowEnd - now);
      rateCount++;
    }
    long ttlMs = o.historyTtlSeconds() * 1000L;
    state(now, ttlMs);
    offset++;
    expiresAt = now + ttlMs;
    Publication stored = p.withPosition(Ids.ulid(now), offset, epoch, now);
    entries.add(new StoredEntry(stored, now + ttlMs));
    if (stored.requiresAck()) ackable.put(stored.id(), offset);
    while (entries.size() > o.historySize()) drop();
    trim(now);
    if (scope != null) idempotency.put(scope, new FirstResult(stored.id(), offset, epoch, now, now + windowMs));
    return new AppendResult(stored, false);
  }

  Recovery recover(long sinceOffset, String sinceEpoch, long now, long ttlMs, long maxBytes) {
    Position current = state(now, ttlMs);
    trim(now);
    if (!current.epoch().equals(sinceEpoch) || sinceOffset < 0 || sinceOffset > offset) return Recovery.lost(current);
    if (sinceOffset == offset) return new Recovery(offset, epoch, true, List.of());
    if (entries.at(sinceOffset + 1) == null) return Recovery.lost(current);
    List<Publication> out = new ArrayList<>();
    ByteBudget budget = new ByteBudget(maxBytes);
    for (long o = sinceOffset + 1; o <= offset; o++) {
      StoredEntry e = entries.at(o);
      if (!e.visible(now)) continue;
      if (!budget.take(e.bytes())) break;
      out.add(e.publication());
    }
    return new Recovery(offset, epoch, true, out, budget.cut());
  }

  HistoryPage history(HistoryQuery q, long now, long maxBytes) {
    Position current = state(now, q.options().historyTtlSeconds() * 1000L);
    trim(now);
    if (q.since() != null) {
      if (!q.since().epoch().equals(epoch)) throw StoreErrors.wrongEpoch(name, q.since().epoch(), epoch);
      if (q.since().offset() > offset) throw StoreErrors.aheadOfChannel(name, q.since().offset(), offset);
    }
    Set<String> acked = q.subject() == null ? Set.of() : acks.getOrDefault(q.subject(), Set.of());
    HistoryCollector collector = new HistoryCollector(q, now, acked, maxBytes);
    if (!entries.isEmpty()) {
      long low = Math.max(q.lowOffset(), entries.first().offset());
      long high = q.highOffset(offset);
      if (q.reverse()) {
        for (long o = high; o >= low && collector.offer(entries.at(o)); o--) { }
      } else {
        for (long o = low; o <= high && collector.offer(entries.at(o)); o++) { }
      }
    }
    return new HistoryPage(collector.publications(), current.offset(), current.epoch(), collector.more());
  }

  AckResult ack(List<String> ids, String subject, long now) {
    expire(now);
    trim(now);
    List<String> acked = new ArrayList<>();
    List<String> fresh = new ArrayList<>();
    for (String id : new LinkedHashSet<>(ids)) {
      Long o = ackable.get(id);
      if (o == null || !entries.at(o).visible(now)) continue;
      acked.add(id);
      if (acks.computeIfAbsent(subject, s -> new HashSet<>()).add(id)) fresh.add(id);
    }
    return new AckResult(acked, fresh);
  }

  /** Pending after {@code since} (null: from the start), at most {@code maxBytes} of them. */
  PendingPage pending(String subject, Position since, long now, long maxBytes) {
    expire(now);
    trim(now);
    if (epoch == null) return PendingPage.NONE;
    if (since != null && !since.epoch().equals(epoch)) throw StoreErrors.wrongEpoch(name, since.epoch(), epoch);
    Set<String> acked = acks.getOrDefault(subject, Set.of());
    List<Publication> out = new ArrayList<>();
    ByteBudget budget = new ByteBudget(maxBytes);
    long after = since == null ? 0 : since.offset();
    for (long o : new TreeSet<>(ackable.values()).tailSet(after, false)) {
      StoredEntry e = entries.at(o);
      if (!e.visible(now) || acked.contains(e.publication().id())) continue;
      if (!budget.take(e.bytes())) break;
      out.add(e.publication());
    }
    return new PendingPage(out, epoch, budget.cut());
  }

  /** Drops what has expired; true when nothing is left and the channel can be forgotten. */
  boolean sweep(long now) {
    expire(now);
    trim(now);
    idempotency.values().removeIf(f -> f.expiresAt <= now);
    return epoch == null && idempotency.isEmpty() && now >= rateWindowEnd;
  }

  /** Forgets the state once its history TTL has passed since the last append: the history is lost. */
  private void expire(long now) {
    if (epoch != null && now >= expiresAt) {
      epoch = null;
      offset = 0;
      entries.clear();
      ackable.clear();
      acks.clear();
    }
  }

  /** Drops head entries past their history TTL. */
  private void trim(long now) {
    while (!entries.isEmpty() && !entries.first().retained(now)) drop();
  }

  /** Removes the oldest entry and every trace of it in the ack bookkeeping. */
  private void drop() {
    String id = entries.removeFirst().publication().id();
    if (ackable.remove(id) != null) {
      for (Iterator<Set<String>> it = acks.values().iterator(); it.hasNext(); ) {
        Set<String> s = it.next();
        if (s.remove(id) && s.isEmpty()) it.remove();
      }
    }
  }
}
