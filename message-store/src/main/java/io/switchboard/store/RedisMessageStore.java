package io.switchboard.store;

import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code redis} engine (Redis ≥ 6.2; key layout in {@link RedisKeys}, scripts next to this class). Every
 * operation is one Lua script — one round trip, atomic — so any number of JVMs can share a channel: append does
 * idempotency check, rate limit, offset increment, XADD, size/TTL trim and expiry refresh together, and never leaves
 * a gap or a half-written append. Appends that arrive while earlier ones are in flight share one script call
 * ({@link RedisAppends}). Every key carries a TTL (history and its bookkeeping: historyTtl after the last
 * append; acks: as long as what they ack; idempotency: the window; rate: one second), so nothing grows forever.
 *
 * <p>Reads filter by expiry in Java (scripts return keep-until and the publication). Timestamps come from the JVM
 * clock; the scripts trust the {@code now} they are given.
 */
public final class RedisMessageStore implements MessageStore {
  private final RedisConnector connector;
  private final RedisLink link;
  private final StoreSettings settings;
  private final RedisAppends appends;
  /** Redis Cluster: a script call may only touch keys of one slot, so one call per channel. */
  private final boolean perChannelCalls;

  public RedisMessageStore(RedisConnector connector, StoreSettings settings) {
    this(connector, settings, RedisAppends.Tuning.DEFAULT.withCallPerChannel(connector.url().startsWith("redis-cluster:")));
  }

  RedisMessageStore(RedisConnector connector, StoreSettings settings, RedisAppends.Tuning tuning) {
    this.connector = connector;
    this.link = new RedisLink(connector.vertx(), connector.client());
    this.settings = settings;
    this.appends = new RedisAppends(link, settings, tuning);
    this.perChannelCalls = tuning.callPerChannel();
  }

  /**
   * The channel's state as one read returned it.
   *
   * @param truncated read.lua stopped at the byte bound while the range held more entries
   */
  private record Snapshot(String epoch, long offset, List<StoredEntry> entries, Set<String> acked, boolean truncated) {
    Position position() {
      return new Position(offset, epoch);
    }
  }

  @Override
  public Future<AppendResult> append(Publication p, NamespaceOptions o, String idempotencyKey) {
    if (o.ephemeral()) return Future.failedFuture(StoreErrors.ephemeral(p.channel()));
    long now = System.currentTimeMillis();
    Publication stamped = p.withPosition(Ids.ulid(now), 0, null, now);
    String key = idempotencyKey == null ? null
        : RedisKeys.idempotency(p.channel(), p.sourceType(), p.sourceId(), idempotencyKey);
    return appends.append(new RedisAppends.Pending(stamped, o, key, storedJson(stamped), Promise.promise()));
  }

  /** The stored text of a publication (see {@link #encodedSize}, which relies on it being {@code toJson()}). */
  static Buffer storedJson(Publication stamped) {
    return stamped.toJson().toBuffer();
  }

  /** The context the store issues its Redis commands from (tests that need a batch formed deterministically). */
  io.vertx.core.Context context() {
    return link.context();
  }

  /** Script calls made by appends so far (see {@link RedisAppends}). */
  int appendCalls() {
    return appends.calls();
  }

  @Override
  public Future<Position> position(String channel, NamespaceOptions options) {
    return read(channel, options, "", "-", "+", 0, false, null, 0).map(Snapshot::position);
  }

  /**
   * One heads.lua call for all channels (a GET and an EXISTS each); with Redis Cluster one call per channel,
   * pipelined, since a script may only touch one slot's keys.
   */
  @Override
  public Future<List<Position>> heads(List<String> asked) {
    if (asked.isEmpty()) return Future.succeededFuture(List.of());
    List<String> channels = List.copyOf(asked); // read later, on the link's thread
    if (!perChannelCalls) return headsCall(channels);
    List<Future<List<Position>>> calls = new ArrayList<>(channels.size());
    for (String c : channels) calls.add(headsCall(List.of(c)));
    return Future.all(calls).map(all -> {
      List<Position> out = new ArrayList<>(channels.size());
      for (int i = 0; i < channels.size(); i++) out.add(all.<List<Position>>resultAt(i).get(0));
      return out;
    });
  }

  private Future<List<Position>> headsCall(List<String> channels) {
    return link.eval(RedisScript.HEADS, r -> {
      r.arg(channels.size() * 2);
      for (String c : channels) r.arg(RedisKeys.meta(c)).arg(RedisKeys.history(c));
    }).map(r -> {
      if (r == null || r.size() != channels.size()) {
        throw new IllegalStateException("heads.lua answered " + (r == null ? 0 : r.size()) + " values for "
            + channels.size() + " channels");
      }
      List<Position> out = new ArrayList<>(channels.size());
      for (int i = 0; i < channels.size(); i++) {
        String head = r.get(i).toString();
        int colon = head.indexOf(':');
        out.add(colon < 0 ? null : new Position(Long.parseLong(head.substring(colon + 1)), head.substring(0, colon)));
      }
      return out;
    });
  }

  @Override
  public Future<Recovery> recover(String channel, long sinceOffset, String epoch, NamespaceOptions options) {
    long from = Math.max(sinceOffset + 1, 1);
    return read(channel, options, epoch, from + "-0", "+", -1, false, null, settings.maxHistoryBytes()).map(s -> {
      long now = System.currentTimeMillis();
      if (!s.epoch.equals(epoch) || sinceOffset < 0 || sinceOffset > s.offset) return Recovery.lost(s.position());
      if (sinceOffset == s.offset) return new Recovery(s.offset, s.epoch, true, List.of());
      if (s.entries.isEmpty() || s.entries.get(0).offset() != sinceOffset + 1 || !s.entries.get(0).retained(now)) {
        return Recovery.lost(s.position());
      }
      List<Publication> out = new ArrayList<>();
      ByteBudget budget = new ByteBudget(settings.maxHistoryBytes());
      for (StoredEntry e : s.entries) {
        if (!e.visible(now)) continue;
        if (!budget.take(e.bytes())) break;
        out.add(e.publication());
      }
      // truncated with everything read taken (expired entries skipped): the rest still follows next
      return new Recovery(s.offset, s.epoch, true, out, budget.cut() || s.truncated);
    });
  }

  @Override
  public Future<HistoryPage> history(HistoryQuery query) {
    HistoryQuery q = query.limitAtMost(settings.maxHistoryLimit());
    String expect = q.since() == null ? "" : q.since().epoch();
    String subject = q.filter().unacked() ? q.subject() : null;
    // the first page fixes epoch and offset; later pages stay within them
    return page(q, expect, q.reverse() ? q.highOffset(Long.MAX_VALUE) : q.lowOffset(), Long.MAX_VALUE, subject)
        .compose(first -> {
          if (q.since() != null) {
            if (!first.epoch.equals(q.since().epoch())) throw StoreErrors.wrongEpoch(q.channel(), q.since().epoch(), first.epoch);
            if (q.since().offset() > first.offset) throw StoreErrors.aheadOfChannel(q.channel(), q.since().offset(), first.offset);
          }
          HistoryCollector collector = new HistoryCollector(q, System.currentTimeMillis(), first.acked,
              settings.maxHistoryBytes());
          return collect(q, collector, first, first);
        });
  }

  /** Offers a page to the collector and reads the next one while the page is incomplete and history remains. */
  private Future<HistoryPage> collect(HistoryQuery q, HistoryCollector collector, Snapshot head, Snapshot page) {
    long last = 0;
    for (StoredEntry e : page.entries) {
      last = e.offset();
      if (!collector.offer(e)) break;
    }
    long next = q.reverse() ? last - 1 : last + 1;
    // a page read in full, or cut short by read.lua's byte bound, may be followed by more history
    boolean full = page.entries.size() == pageSize(q) || page.truncated;
    boolean more = !collector.done() && full && next >= 1 && next <= head.offset;
    if (!more) return Future.succeededFuture(pageOf(collector, head));
    return page(q, head.epoch, next, head.offset, null).compose(s -> s.epoch.equals(head.epoch)
        ? collect(q, collector, head, s)
        : Future.succeededFuture(pageOf(collector, head)));
  }

  private static HistoryPage pageOf(HistoryCollector collector, Snapshot head) {
    return new HistoryPage(collector.publications(), head.offset, head.epoch, collector.more());
  }

  /** Reads one page starting at offset {@code start} in scan order, never past {@code maxOffset}. */
  private Future<Snapshot> page(HistoryQuery q, String expect, long start, long maxOffset, String subject) {
    int size = pageSize(q);
    if (start < 1) size = 0;
    String bound = maxOffset == Long.MAX_VALUE ? "+" : maxOffset + "-0";
    if (q.reverse()) {
      String high = start == Long.MAX_VALUE ? bound : start + "-0";
      return read(q.channel(), q.options(), expect, high, "-", size, true, subject, settings.maxHistoryBytes());
    }
    return read(q.channel(), q.options(), expect, start + "-0", bound, size, false, subject, settings.maxHistoryBytes());
  }

  /** Entries read per page: exactly the limit when every visible entry counts, more when a filter may skip many. */
  private static int pageSize(HistoryQuery q) {
    if (q.limit() <= 0) return 0;
    boolean everyEntryCounts = q.filter().matchesAll() && q.sinceTime() == null;
    return everyEntryCounts ? q.limit() : Math.max(q.limit(), 100);
  }

  @Override
  public Future<AckResult> ack(String channel, List<String> ids, String subject) {
    Set<String> unique = new LinkedHashSet<>(ids);
    if (unique.isEmpty()) return Future.succeededFuture(new AckResult(List.of(), List.of()));
    List<String> args = new ArrayList<>(unique.size() + 1);
    args.add(Long.toString(System.currentTimeMillis()));
    args.addAll(unique);
    List<String> keys = List.of(RedisKeys.history(channel), RedisKeys.ackable(channel), RedisKeys.acks(channel, subject));
    return link.eval(RedisScript.ACK, keys, args).map(r -> {
      List<String> acked = new ArrayList<>();
      List<String> fresh = new ArrayList<>();
      for (int i = 0; i < r.size(); i += 2) {
        String id = r.get(i).toString();
        acked.add(id);
        if (r.get(i + 1).toLong() == 1) fresh.add(id);
      }
      return new AckResult(acked, fresh);
    });
  }

  @Override
  public Future<PendingPage> pending(String channel, String subject, Position since) {
    List<String> keys = List.of(RedisKeys.meta(channel), RedisKeys.history(channel), RedisKeys.ackable(channel),
        RedisKeys.acks(channel, subject));
    long after = since == null ? 0 : since.offset();
    List<String> args = List.of(Long.toString(after), Integer.toString(settings.maxHistoryBytes()));
    return link.eval(RedisScript.PENDING, keys, args).map(r -> {
      String epoch = r.get(0).toString();
      if (epoch.isEmpty()) return PendingPage.NONE;
      if (since != null && !since.epoch().equals(epoch)) throw StoreErrors.wrongEpoch(channel, since.epoch(), epoch);
      long now = System.currentTimeMillis();
      List<Publication> out = new ArrayList<>();
      ByteBudget budget = new ByteBudget(settings.maxHistoryBytes());
      for (StoredEntry e : entries(r.get(1), epoch)) {
        if (!e.visible(now)) continue;
        if (!budget.take(e.bytes())) break;
        out.add(e.publication());
      }
      return new PendingPage(out, epoch, budget.cut() || r.get(2).toInteger() == 1);
    });
  }

  @Override
  public Future<Void> close() {
    return link.close().eventually(() -> {
      connector.close();
      return Future.succeededFuture();
    });
  }

  /**
   * Runs read.lua: the channel's position (state created if missing) and up to {@code count} entries, stopping
   * once they hold about {@code maxBytes} (0 = no bound) of publications.
   */
  private Future<Snapshot> read(String channel, NamespaceOptions o, String expectEpoch, String a, String b, int count,
      boolean reverse, String ackSubject, int maxBytes) {
    if (o.ephemeral()) return Future.failedFuture(StoreErrors.ephemeral(channel));
    List<String> keys = new ArrayList<>(List.of(RedisKeys.meta(channel), RedisKeys.history(channel),
        RedisKeys.ackable(channel)));
    if (ackSubject != null) keys.add(RedisKeys.acks(channel, ackSubject));
    List<String> args = List.of(Long.toString(o.historyTtlSeconds() * 1000L), Ids.hex(8), expectEpoch, a, b,
        Integer.toString(count), reverse ? "1" : "0", Integer.toString(maxBytes));
    return link.eval(RedisScript.READ, keys, args).map(r -> {
      String epoch = r.get(0).toString();
      Set<String> acked = new HashSet<>();
      for (Response id : r.get(3)) acked.add(id.toString());
      return new Snapshot(epoch, r.get(1).toLong(), entries(r.get(2), epoch), acked, r.get(4).toInteger() == 1);
    });
  }

  /** Decodes {@code {{id, keepUntil, expiry, json}...}} entries of a script reply. */
  private static List<StoredEntry> entries(Response list, String epoch) {
    List<StoredEntry> out = new ArrayList<>(list.size());
    for (Response e : list) {
      String streamId = e.get(0).toString();
      long offset = Long.parseLong(streamId.substring(0, streamId.indexOf('-')));
      Buffer json = e.get(3).toBuffer();
      Publication p = Publication.fromJson(new JsonObject(json));
      out.add(new StoredEntry(p.withPosition(p.id(), offset, epoch, p.timestamp()), Long.parseLong(e.get(1).toString()),
          encodedSize(json.length(), offset, epoch)));
    }
    return out;
  }

  /**
   * {@link StoredEntry#encodedSize} without encoding again: the stored JSON is {@code toJson()} of the publication
   * without offset and epoch (append stores it unpositioned), and re-encoding what Vert.x decoded gives the same
   * text, so the positioned JSON adds exactly {@code "offset":N,} and {@code "epoch":"E",}.
   */
  static int encodedSize(int storedBytes, long offset, String epoch) {
    return storedBytes + ("\"offset\":,".length() + Long.toString(offset).length())
        + ("\"epoch\":\"\",".length() + epoch.length());
  }
}
