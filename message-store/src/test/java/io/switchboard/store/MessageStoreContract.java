package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The storage contract of {@link MessageStore}: every engine runs exactly these tests with these assertions.
 * Channels are unique per test, so engines sharing a backend (one Redis) need no flushing. Waits on time (TTLs,
 * windows) poll with {@link Await#until} for as long as the TTL needs and no longer.
 */
abstract class MessageStoreContract {
  /** Short windows keep time-based tests fast: idempotency 1 s, history pages of at most 50. */
  static final StoreSettings SETTINGS = new StoreSettings(1, 50, 100);
  static final NamespaceOptions KEEP = opts(1000, 3600, 0);

  private static final AtomicInteger COUNTER = new AtomicInteger();

  static Vertx vertx;
  MessageStore store;
  private final List<MessageStore> extra = new ArrayList<>();

  /** A fresh engine over the engine's backend. */
  abstract MessageStore newStore(Vertx vertx, StoreSettings settings);

  /** A second handle on the same data for the race test: a second client for Redis, the same object in memory. */
  abstract MessageStore sameDataStore();

  /** A handle on the same data under other settings (limits at and past their bound); closed by the test. */
  abstract MessageStore sameData(StoreSettings settings);

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() {
    Await.result(vertx.close());
  }

  @BeforeEach
  void open() {
    store = newStore(vertx, SETTINGS);
  }

  @AfterEach
  void closeStores() {
    for (MessageStore s : extra) Await.result(s.close());
    Await.result(store.close());
  }

  MessageStore track(MessageStore s) {
    extra.add(s);
    return s;
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static NamespaceOptions opts(int historySize, int historyTtlSeconds, int ratePerSecond) {
    return new NamespaceOptions(historySize, historyTtlSeconds, true, true, true, true, ratePerSecond);
  }

  static String channel() {
    return "test:c" + COUNTER.incrementAndGet() + "-" + Ids.hex(6);
  }

  static Publication pub(String channel, Object data) {
    return new Publication(null, channel, 0, null, 0, "note", data, "agent", "a1", null, null, 0, false, null);
  }

  static Publication pub(String channel, Priority priority, List<String> tags, String sourceType, int ttl, boolean ack) {
    return new Publication(null, channel, 0, null, 0, "note", new JsonObject().put("n", 1), sourceType, "s1", priority,
        tags, ttl, ack, null);
  }

  Publication append(String channel, NamespaceOptions o) {
    return Await.result(store.append(pub(channel, new JsonObject().put("x", 1)), o, null)).publication();
  }

  Publication append(Publication p) {
    return Await.result(store.append(p, KEEP, null)).publication();
  }

  List<Long> offsets(List<Publication> pubs) {
    return pubs.stream().map(Publication::offset).collect(Collectors.toList());
  }

  HistoryPage history(String channel, NamespaceOptions o, Position since, int limit, boolean reverse) {
    return Await.result(store.history(new HistoryQuery(channel, o, since, null, limit, reverse, null, null)));
  }

  List<Publication> filtered(String channel, HistoryFilter filter, String subject) {
    return Await.result(store.history(new HistoryQuery(channel, KEEP, null, null, 50, false, filter, subject)))
        .publications();
  }

  static ServiceError serviceError(Future<?> f, ErrorCode code) {
    Throwable t = Await.failure(f);
    ServiceError e = assertInstanceOf(ServiceError.class, t);
    assertEquals(code, e.code(), e.getMessage());
    return e;
  }

  /** Whether an append went through; false when it was rate limited. */
  static boolean accepted(Future<AppendResult> f) {
    try {
      Await.result(f);
      return true;
    } catch (ServiceError e) {
      assertEquals(ErrorCode.RATE_LIMITED, e.code(), e.getMessage());
      return false;
    }
  }

  static void waitUntilPast(long epochMillis) {
    Await.until("clock passes " + epochMillis, () -> System.currentTimeMillis() >= epochMillis);
  }

  // --- offsets and epochs --------------------------------------------------------------------------------------

  @Test
  @DisplayName("offsets start at 1 and grow by exactly 1; the epoch stays; ids, timestamps are stamped")
  void offsetsGrowByOne() {
    String ch = channel();
    List<Publication> stored = new ArrayList<>();
    for (int i = 0; i < 5; i++) stored.add(append(ch, KEEP));
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L), offsets(stored));
    String epoch = stored.get(0).epoch();
    assertNotNull(epoch);
    assertEquals(8, epoch.length());
    assertTrue(stored.stream().allMatch(p -> p.epoch().equals(epoch)));
    assertEquals(5, stored.stream().map(Publication::id).distinct().count());
    assertTrue(stored.stream().allMatch(p -> p.id().length() == 26 && p.timestamp() > 0));
    assertEquals(new Position(5, epoch), Await.result(store.position(ch, KEEP)));
  }

  @Test
  @DisplayName("a new channel is at offset 0 with the epoch its first append will use")
  void newChannelPosition() {
    String ch = channel();
    Position p = Await.result(store.position(ch, KEEP));
    assertEquals(0, p.offset());
    assertEquals(p, Await.result(store.position(ch, KEEP)));
    Publication first = append(ch, KEEP);
    assertEquals(1, first.offset());
    assertEquals(p.epoch(), first.epoch());
    Recovery r = Await.result(store.recover(ch, 0, p.epoch(), KEEP));
    assertTrue(r.recovered());
    assertEquals(List.of(1L), offsets(r.publications()));
  }

  @Test
  @DisplayName("a stored publication keeps every field it was published with")
  void keepsFields() {
    String ch = channel();
    Publication in = new Publication("ignored", ch, 99, "ignored", 1, "task.updated",
        new JsonObject().put("status", "done").put("list", new JsonArray().add(1).add("two")), "user", "u7",
        Priority.HIGH, List.of("t1", "t2"), 3600, true, "m-17");
    Publication stored = Await.result(store.append(in, KEEP, null)).publication();
    assertEquals(1, stored.offset());
    assertNotEquals("ignored", stored.id());
    Publication read = history(ch, KEEP, null, 10, false).publications().get(0);
    assertEquals(stored, read);
    assertEquals(in.withPosition(stored.id(), 1, stored.epoch(), stored.timestamp()), read);
    Object scalar = append(pub(ch, "just text")).data();
    assertEquals("just text", scalar);
    assertEquals("just text", history(ch, KEEP, null, 10, true).publications().get(0).data());
  }

  @Test
  @DisplayName("history is trimmed to historySize; recovery through a trimmed offset fails")
  void trimsBySize() {
    String ch = channel();
    NamespaceOptions three = opts(3, 3600, 0);
    String epoch = null;
    for (int i = 0; i < 5; i++) epoch = append(ch, three).epoch();
    assertEquals(List.of(3L, 4L, 5L), offsets(history(ch, three, null, 10, false).publications()));
    assertFalse(Await.result(store.recover(ch, 1, epoch, three)).recovered());
    Recovery r = Await.result(store.recover(ch, 2, epoch, three));
    assertTrue(r.recovered());
    assertEquals(List.of(3L, 4L, 5L), offsets(r.publications()));
    assertEquals(5, r.offset());
  }

  @Test
  @DisplayName("entries older than historyTtl are trimmed while newer ones stay, the epoch unchanged")
  void trimsByHistoryTtl() {
    String ch = channel();
    NamespaceOptions oneSecond = opts(100, 1, 0);
    Publication a = append(ch, oneSecond);
    waitUntilPast(a.timestamp() + 400);
    Publication b = append(ch, oneSecond);
    Await.until("first entry trimmed by TTL",
        () -> history(ch, oneSecond, null, 10, false).publications().size() == 1);
    assertEquals(List.of(2L), offsets(history(ch, oneSecond, null, 10, false).publications()));
    assertFalse(Await.result(store.recover(ch, 0, a.epoch(), oneSecond)).recovered(), "offset 1 was trimmed");
    Recovery r = Await.result(store.recover(ch, 1, a.epoch(), oneSecond));
    assertTrue(r.recovered());
    assertEquals(List.of(b), r.publications());
    assertEquals(new Position(2, a.epoch()), Await.result(store.position(ch, oneSecond)));
  }

  @Test
  @DisplayName("after historyTtl without publishes the history is lost: new epoch, offsets restart, recovery fails")
  void historyLossNewEpoch() {
    String ch = channel();
    NamespaceOptions oneSecond = opts(100, 1, 0);
    append(ch, oneSecond);
    Publication last = append(ch, oneSecond);
    Await.until("history lost",
        () -> !Await.result(store.position(ch, oneSecond)).epoch().equals(last.epoch()));
    Position now = Await.result(store.position(ch, oneSecond));
    assertEquals(0, now.offset());
    Recovery r = Await.result(store.recover(ch, 2, last.epoch(), oneSecond));
    assertFalse(r.recovered());
    assertTrue(r.publications().isEmpty());
    assertEquals(now.epoch(), r.epoch());
    Publication next = append(ch, oneSecond);
    assertEquals(1, next.offset());
    assertEquals(now.epoch(), next.epoch());
  }

  @Test
  @DisplayName("heads: each channel's newest offset and epoch in the order asked, null without state, nothing created")
  void headsOfManyChannels() {
    String busy = channel();
    String positioned = channel();
    String unknown = channel();
    Publication last = null;
    for (int i = 0; i < 3; i++) last = append(busy, KEEP);
    Position empty = Await.result(store.position(positioned, KEEP)); // state made by a read: offset 0
    List<Position> heads = Await.result(store.heads(List.of(unknown, busy, positioned, busy)));
    assertEquals(java.util.Arrays.asList(null, new Position(3, last.epoch()), empty, new Position(3, last.epoch())), heads);
    // heads created nothing: the unknown channel still has no state, and its first append starts at 1
    assertEquals(java.util.Collections.singletonList(null), Await.result(store.heads(List.of(unknown))));
    assertEquals(1, append(unknown, KEEP).offset());
    assertEquals(List.of(), Await.result(store.heads(List.of())));
  }

  @Test
  @DisplayName("heads: a channel whose history expired has none (its next append starts a new epoch)")
  void headsAfterHistoryLoss() {
    String ch = channel();
    NamespaceOptions twoSeconds = opts(100, 2, 0);
    Publication p = append(ch, twoSeconds);
    assertEquals(List.of(new Position(1, p.epoch())), Await.result(store.heads(List.of(ch))));
    Await.until("history lost", () -> Await.result(store.heads(List.of(ch))).get(0) == null);
    Publication next = append(ch, twoSeconds);
    assertEquals(1, next.offset());
    assertNotEquals(p.epoch(), next.epoch());
  }

  @Test
  @DisplayName("a publication past its own ttl is never returned, and recovery skips it without failing")
  void perMessageTtl() {
    String ch = channel();
    Publication shortLived = append(pub(ch, Priority.NORMAL, List.of(), "agent", 1, true));
    Publication kept = append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, true));
    assertEquals(2, Await.result(store.pending(ch, "u1")).size());
    Await.until("short-lived publication expired", () -> history(ch, KEEP, null, 10, false).publications().size() == 1);
    assertEquals(List.of(kept), history(ch, KEEP, null, 10, false).publications());
    Recovery r = Await.result(store.recover(ch, 0, kept.epoch(), KEEP));
    assertTrue(r.recovered());
    assertEquals(List.of(kept), r.publications());
    assertEquals(List.of(kept), Await.result(store.pending(ch, "u1")));
    assertEquals(List.of(), Await.result(store.ack(ch, List.of(shortLived.id()), "u1")).acked());
    assertEquals(List.of(kept.id()), Await.result(store.ack(ch, List.of(shortLived.id(), kept.id()), "u1")).acked());
  }

  // --- recovery ------------------------------------------------------------------------------------------------

  @Test
  @DisplayName("recovery: in order after the position; empty at the head; false for another epoch or a future offset")
  void recovery() {
    String ch = channel();
    String epoch = null;
    for (int i = 0; i < 4; i++) epoch = append(ch, KEEP).epoch();
    Recovery middle = Await.result(store.recover(ch, 1, epoch, KEEP));
    assertTrue(middle.recovered());
    assertEquals(List.of(2L, 3L, 4L), offsets(middle.publications()));
    assertEquals(new Position(4, epoch), new Position(middle.offset(), middle.epoch()));
    Recovery head = Await.result(store.recover(ch, 4, epoch, KEEP));
    assertTrue(head.recovered());
    assertTrue(head.publications().isEmpty());
    Recovery all = Await.result(store.recover(ch, 0, epoch, KEEP));
    assertEquals(List.of(1L, 2L, 3L, 4L), offsets(all.publications()));
    for (Recovery lost : List.of(Await.result(store.recover(ch, 1, "00000000", KEEP)),
        Await.result(store.recover(ch, 5, epoch, KEEP)))) {
      assertFalse(lost.recovered());
      assertTrue(lost.publications().isEmpty());
      assertEquals(4, lost.offset());
      assertEquals(epoch, lost.epoch());
    }
  }

  // --- history -------------------------------------------------------------------------------------------------

  @Test
  @DisplayName("history: forward after since, reverse before since (paging back), limit, sinceTime")
  void historyOrderAndBounds() {
    String ch = channel();
    List<Publication> all = new ArrayList<>();
    for (int i = 0; i < 6; i++) all.add(append(ch, KEEP));
    String epoch = all.get(0).epoch();
    HistoryPage newest = history(ch, KEEP, null, 2, true);
    assertEquals(List.of(6L, 5L), offsets(newest.publications()));
    assertEquals(new Position(6, epoch), new Position(newest.offset(), newest.epoch()));
    assertEquals(List.of(4L, 3L), offsets(history(ch, KEEP, new Position(5, epoch), 2, true).publications()));
    assertEquals(List.of(1L), offsets(history(ch, KEEP, new Position(2, epoch), 10, true).publications()));
    assertEquals(List.of(), offsets(history(ch, KEEP, new Position(1, epoch), 10, true).publications()));
    assertEquals(List.of(1L, 2L), offsets(history(ch, KEEP, null, 2, false).publications()));
    assertEquals(List.of(4L, 5L), offsets(history(ch, KEEP, new Position(3, epoch), 2, false).publications()));
    assertEquals(List.of(), offsets(history(ch, KEEP, new Position(6, epoch), 2, false).publications()));
    HistoryPage positionOnly = history(ch, KEEP, null, 0, false);
    assertTrue(positionOnly.publications().isEmpty());
    assertEquals(6, positionOnly.offset());

    long t = all.get(3).timestamp();
    List<Long> expected = all.stream().filter(p -> p.timestamp() >= t).map(Publication::offset).toList();
    HistoryPage since = Await.result(store.history(new HistoryQuery(ch, KEEP, null, t, 10, false, null, null)));
    assertEquals(expected, offsets(since.publications()));
    HistoryPage sinceReverse = Await.result(store.history(new HistoryQuery(ch, KEEP, null, t, 10, true, null, null)));
    List<Long> reversed = new ArrayList<>(expected);
    Collections.reverse(reversed);
    assertEquals(reversed, offsets(sinceReverse.publications()));
  }

  @Test
  @DisplayName("history since another epoch (or past the head) fails with unrecoverable_position")
  void historyWrongEpoch() {
    String ch = channel();
    Publication p = append(ch, KEEP);
    serviceError(store.history(new HistoryQuery(ch, KEEP, new Position(0, "ffffffff"), null, 10, false, null, null)),
        ErrorCode.UNRECOVERABLE_POSITION);
    serviceError(store.history(new HistoryQuery(ch, KEEP, new Position(2, p.epoch()), null, 10, false, null, null)),
        ErrorCode.UNRECOVERABLE_POSITION);
  }

  @Test
  @DisplayName("history limit: at the maximum returns the maximum; past it is clamped to the maximum")
  void historyLimit() {
    String ch = channel();
    int max = SETTINGS.maxHistoryLimit();
    for (int i = 0; i < max + 5; i++) append(ch, KEEP);
    assertEquals(max, history(ch, KEEP, null, max, false).publications().size());
    HistoryPage past = history(ch, KEEP, null, max + 1, true);
    assertEquals(max, past.publications().size());
    assertEquals(max + 5L, past.publications().get(0).offset());
    assertEquals(max + 5L, past.offset());
  }

  @Test
  @DisplayName("history filters: priority, tags (any of), source type, unacked by the subject")
  void historyFilters() {
    String ch = channel();
    Publication p1 = append(pub(ch, Priority.HIGH, List.of("a"), "agent", 0, false));
    Publication p2 = append(pub(ch, Priority.LOW, List.of("b", "c"), "user", 0, true));
    Publication p3 = append(pub(ch, Priority.CRITICAL, List.of(), "daemon", 0, true));
    Publication p4 = append(pub(ch, Priority.NORMAL, List.of("c"), "agent", 0, false));
    assertEquals(List.of(p1, p3), filtered(ch, new HistoryFilter(Set.of(Priority.HIGH, Priority.CRITICAL), Set.of(),
        Set.of(), false), null));
    assertEquals(List.of(p2, p4), filtered(ch, new HistoryFilter(Set.of(), Set.of("c", "zzz"), Set.of(), false), null));
    assertEquals(List.of(p1, p2), filtered(ch, new HistoryFilter(Set.of(), Set.of("a", "b"), Set.of(), false), null));
    assertEquals(List.of(p1, p4), filtered(ch, new HistoryFilter(Set.of(), Set.of(), Set.of("agent"), false), null));
    HistoryFilter unacked = new HistoryFilter(Set.of(), Set.of(), Set.of(), true);
    assertEquals(List.of(p2, p3), filtered(ch, unacked, "u1"));
    Await.result(store.ack(ch, List.of(p2.id()), "u1"));
    assertEquals(List.of(p3), filtered(ch, unacked, "u1"));
    assertEquals(List.of(p2, p3), filtered(ch, unacked, "u2"));
    assertEquals(List.of(p2), filtered(ch, new HistoryFilter(Set.of(Priority.LOW), Set.of(), Set.of("user"), true), "u2"));
    // a filter that skips most entries still fills the page (engines may read in several pages)
    for (int i = 0; i < 120; i++) append(pub(ch, Priority.LOW, List.of(), "agent", 0, false));
    Publication last = append(pub(ch, Priority.HIGH, List.of("late"), "agent", 0, false));
    HistoryQuery late = new HistoryQuery(ch, KEEP, null, null, 2, false,
        new HistoryFilter(Set.of(Priority.HIGH), Set.of(), Set.of(), false), null);
    assertEquals(List.of(p1, last), Await.result(store.history(late)).publications());
  }

  // --- acks ----------------------------------------------------------------------------------------------------

  @Test
  @DisplayName("ack: only existing publications that require an ack; twice is fine; pending is per subject")
  void ackAndPending() {
    String ch = channel();
    Publication needs1 = append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, true));
    Publication plain = append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, false));
    Publication needs2 = append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, true));
    assertEquals(List.of(needs1, needs2), Await.result(store.pending(ch, "u1")));

    AckResult first = Await.result(store.ack(ch, List.of(needs1.id(), plain.id(), "01NOTANID0000000000000000", needs1.id()), "u1"));
    assertEquals(List.of(needs1.id()), first.acked());
    assertEquals(List.of(needs1.id()), first.newlyAcked());
    AckResult again = Await.result(store.ack(ch, List.of(needs1.id(), needs2.id()), "u1"));
    assertEquals(List.of(needs1.id(), needs2.id()), again.acked());
    assertEquals(List.of(needs2.id()), again.newlyAcked());

    assertEquals(List.of(), Await.result(store.pending(ch, "u1")));
    assertEquals(List.of(needs1, needs2), Await.result(store.pending(ch, "u2")));
    assertEquals(List.of(), Await.result(store.pending(channel(), "u1")));
    assertEquals(List.of(), Await.result(store.ack(channel(), List.of(needs1.id()), "u1")).acked());
  }

  @Test
  @DisplayName("an ack of a publication trimmed by size is refused; pending forgets it")
  void ackAfterTrim() {
    String ch = channel();
    NamespaceOptions two = opts(2, 3600, 0);
    Publication gone = Await.result(store.append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, true), two, null))
        .publication();
    append(ch, two);
    Publication kept = Await.result(store.append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, true), two, null))
        .publication();
    assertEquals(List.of(kept), Await.result(store.pending(ch, "u1")));
    assertEquals(List.of(kept.id()), Await.result(store.ack(ch, List.of(gone.id(), kept.id()), "u1")).acked());
    append(ch, two);
    append(ch, two);
    assertEquals(List.of(), Await.result(store.pending(ch, "u2")), "every publication requiring an ack was trimmed");
    assertEquals(List.of(), Await.result(store.ack(ch, List.of(kept.id()), "u2")).acked());
  }

  // --- idempotency and rate limit ------------------------------------------------------------------------------

  @Test
  @DisplayName("idempotency: a repeat returns the first result as duplicate; scope is channel+source+key; window ends")
  void idempotency() {
    String ch = channel();
    Publication p = pub(ch, new JsonObject().put("v", 1));
    AppendResult first = Await.result(store.append(p, KEEP, "k-9"));
    assertFalse(first.duplicate());
    AppendResult repeat = Await.result(store.append(p, KEEP, "k-9"));
    assertTrue(repeat.duplicate());
    assertEquals(first.publication().id(), repeat.publication().id());
    assertEquals(first.publication().offset(), repeat.publication().offset());
    assertEquals(first.publication().epoch(), repeat.publication().epoch());
    assertEquals(first.publication().timestamp(), repeat.publication().timestamp());
    assertEquals(1, Await.result(store.position(ch, KEEP)).offset(), "the repeat stored nothing");

    Publication otherSource = new Publication(null, ch, 0, null, 0, "note", 1, "agent", "a2", null, null, 0, false, null);
    assertEquals(2, Await.result(store.append(otherSource, KEEP, "k-9")).publication().offset());
    assertEquals(3, Await.result(store.append(p, KEEP, "k-10")).publication().offset());
    assertEquals(1, Await.result(store.append(pub(channel(), 1), KEEP, "k-9")).publication().offset());
    assertEquals(4, Await.result(store.append(p, KEEP, null)).publication().offset());

    Await.until("idempotency window over", () -> !Await.result(store.append(p, KEEP, "k-9")).duplicate());
    assertEquals(5, Await.result(store.position(ch, KEEP)).offset());
  }

  @Test
  @DisplayName("rate limit: publishRatePerSecond appends pass, the next is rate_limited with retryAfterMs")
  void rateLimit() {
    String ch = channel();
    NamespaceOptions three = opts(100, 3600, 3);
    for (int i = 0; i < 3; i++) append(ch, three);
    ServiceError e = serviceError(store.append(pub(ch, 1), three, null), ErrorCode.RATE_LIMITED);
    long retry = e.extra().getLong("retryAfterMs");
    assertTrue(retry > 0 && retry <= 1000, "retryAfterMs " + retry);
    assertEquals(3, Await.result(store.position(ch, three)).offset(), "a refused append stores nothing");
    // an idempotent repeat of an accepted publication is not a new publication: it is answered, not refused
    String ch2 = channel();
    AppendResult keyed = Await.result(store.append(pub(ch2, 1), opts(100, 3600, 1), "k"));
    assertTrue(Await.result(store.append(pub(ch2, 1), opts(100, 3600, 1), "k")).duplicate());
    serviceError(store.append(pub(ch2, 1), opts(100, 3600, 1), null), ErrorCode.RATE_LIMITED);
    assertEquals(1, keyed.publication().offset());

    Await.until("rate window over", () -> accepted(store.append(pub(ch, 1), three, null)));
    assertEquals(4, Await.result(store.position(ch, three)).offset(), "no gap after refusals");
    assertEquals(List.of(1L, 2L, 3L, 4L), offsets(history(ch, three, null, 10, false).publications()));
  }

  // --- concurrency ---------------------------------------------------------------------------------------------

  @Test
  @DisplayName("two publishers racing on one channel get offsets 1..2N, each exactly once")
  void racingPublishers() throws Exception {
    String ch = channel();
    int n = 300;
    MessageStore other = sameDataStore();
    List<Future<AppendResult>> results = Collections.synchronizedList(new ArrayList<>());
    Thread[] publishers = new Thread[2];
    for (int t = 0; t < 2; t++) {
      MessageStore s = t == 0 ? store : other;
      publishers[t] = new Thread(() -> {
        for (int i = 0; i < n; i++) results.add(s.append(pub(ch, i), KEEP, null));
      });
    }
    for (Thread t : publishers) t.start();
    for (Thread t : publishers) t.join();
    Set<Long> offsets = new TreeSet<>();
    for (Future<AppendResult> f : results) assertTrue(offsets.add(Await.result(f).publication().offset()));
    assertEquals(2 * n, offsets.size());
    assertEquals(1L, offsets.iterator().next());
    assertEquals((long) 2 * n, ((TreeSet<Long>) offsets).last());
    assertEquals(2L * n, Await.result(store.position(ch, KEEP)).offset());
  }

  /** Appends fired together from one thread, not awaited one by one: engines may batch them (the Redis engine does). */
  List<Future<AppendResult>> fire(List<Publication> pubs, NamespaceOptions o, List<String> keys, List<Integer> completed) {
    List<Future<AppendResult>> out = new ArrayList<>();
    for (int i = 0; i < pubs.size(); i++) {
      int n = i;
      out.add(store.append(pubs.get(i), o, keys == null ? null : keys.get(i)).onComplete(ar -> completed.add(n)));
    }
    return out;
  }

  @Test
  @DisplayName("appends fired together to one channel: offsets 1..N in submission order, completed in offset order")
  void concurrentAppendsOneChannel() {
    String ch = channel();
    int n = 600;
    List<Publication> pubs = new ArrayList<>();
    for (int i = 0; i < n; i++) pubs.add(pub(ch, new JsonObject().put("n", i)));
    List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
    List<Future<AppendResult>> results = fire(pubs, KEEP, null, completed);
    for (int i = 0; i < n; i++) {
      AppendResult r = Await.result(results.get(i));
      assertFalse(r.duplicate());
      assertEquals(i + 1L, r.publication().offset(), "append " + i);
      assertEquals(results.get(0).result().publication().epoch(), r.publication().epoch());
    }
    Await.until("all completed", () -> completed.size() == n);
    List<Integer> inOrder = new ArrayList<>(completed);
    Collections.sort(inOrder);
    assertEquals(inOrder, completed, "completed in offset order");
    assertEquals(n, Await.result(store.position(ch, KEEP)).offset());
    Recovery all = Await.result(store.recover(ch, 0, results.get(0).result().publication().epoch(), KEEP));
    List<Publication> stored = new ArrayList<>(all.publications());
    if (all.more()) stored.addAll(readOn(store, ch, all.next(0)));
    assertEquals(n, stored.size());
    for (int i = 0; i < n; i++) assertEquals(results.get(i).result().publication(), stored.get(i), "history " + i);
  }

  @Test
  @DisplayName("appends fired together to many channels: each channel's offsets contiguous in its submission order")
  void concurrentAppendsManyChannels() {
    int channels = 40;
    int each = 15;
    List<String> names = new ArrayList<>();
    for (int c = 0; c < channels; c++) names.add(channel());
    List<Publication> pubs = new ArrayList<>();
    for (int i = 0; i < each; i++) {
      for (String ch : names) pubs.add(pub(ch, new JsonObject().put("n", i)));
    }
    List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
    List<Future<AppendResult>> results = fire(pubs, KEEP, null, completed);
    for (int k = 0; k < pubs.size(); k++) {
      Publication p = Await.result(results.get(k)).publication();
      assertEquals(k / channels + 1L, p.offset(), pubs.get(k).channel() + " append " + k / channels);
    }
    Await.until("all completed", () -> completed.size() == pubs.size());
    // per channel, completions in offset order (submission index k grows with the offset within a channel)
    List<Integer> order = new ArrayList<>(completed);
    for (int c = 0; c < channels; c++) {
      int ch = c;
      List<Integer> mine = order.stream().filter(k -> k % channels == ch).toList();
      List<Integer> sorted = new ArrayList<>(mine);
      Collections.sort(sorted);
      assertEquals(sorted, mine, names.get(c) + " completed in offset order");
    }
    for (String ch : names) {
      HistoryPage h = history(ch, KEEP, null, 50, false);
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L), offsets(h.publications()));
      for (int i = 0; i < each; i++) assertEquals(i, ((JsonObject) h.publications().get(i).data()).getInteger("n"));
    }
  }

  @Test
  @DisplayName("appends fired from several threads at once: each channel's offsets contiguous, each thread's order kept")
  void concurrentAppendsFromSeveralThreads() throws InterruptedException {
    int threads = 4;
    int each = 120;
    List<String> names = List.of(channel(), channel(), channel());
    List<Future<AppendResult>> results = Collections.synchronizedList(new ArrayList<>());
    List<Thread> firing = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      // half the threads are Vert.x event loops (as a store verticle and a reply callback are), half are not
      Runnable work = () -> {
        for (int i = 0; i < each; i++) {
          String ch = names.get(i % names.size());
          results.add(store.append(pub(ch, new JsonObject().put("t", thread).put("i", i)), KEEP, null));
        }
      };
      if (t % 2 == 0) {
        Thread th = new Thread(work);
        firing.add(th);
        th.start();
      } else {
        // a context made on a thread of its own: on another event loop than the store's (made on this thread)
        io.vertx.core.Context[] loop = new io.vertx.core.Context[1];
        Thread maker = new Thread(() -> loop[0] = vertx.getOrCreateContext());
        maker.start();
        maker.join();
        loop[0].runOnContext(v -> work.run());
      }
    }
    for (Thread th : firing) th.join();
    Await.until("every append fired", () -> results.size() == threads * each);
    for (Future<AppendResult> f : new ArrayList<>(results)) Await.result(f);
    int perChannel = threads * each / names.size();
    for (String ch : names) {
      List<Publication> stored = new ArrayList<>();
      Position since = null;
      while (stored.size() < perChannel) {
        HistoryPage h = history(ch, KEEP, since, 50, false);
        assertFalse(h.publications().isEmpty(), ch + " history ended at " + stored.size());
        stored.addAll(h.publications());
        Publication last = h.publications().get(h.publications().size() - 1);
        since = new Position(last.offset(), last.epoch());
      }
      assertEquals(perChannel, stored.size(), ch);
      int[] lastOf = new int[threads];
      java.util.Arrays.fill(lastOf, -1);
      for (int k = 0; k < stored.size(); k++) {
        Publication p = stored.get(k);
        assertEquals(k + 1L, p.offset(), ch + " offsets contiguous");
        JsonObject d = (JsonObject) p.data();
        int t = d.getInteger("t");
        int i = d.getInteger("i");
        assertTrue(i > lastOf[t], ch + ": thread " + t + " append " + i + " stored after its append " + lastOf[t]);
        lastOf[t] = i;
      }
    }
  }

  @Test
  @DisplayName("one idempotency key twice among appends fired together stores once; the repeat answers the first")
  void idempotencyWithinOneBatch() {
    String ch = channel();
    String other = channel();
    List<Publication> pubs = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      pubs.add(pub(ch, i));
      keys.add(null);
    }
    Publication keyed = pub(ch, "first");
    pubs.addAll(List.of(keyed, pub(ch, "plain"), pub(ch, "second"), pub(other, "elsewhere"), pub(ch, "third")));
    keys.addAll(java.util.Arrays.asList("k-1", null, "k-1", "k-1", "k-1"));
    List<Future<AppendResult>> results = fire(pubs, KEEP, keys, Collections.synchronizedList(new ArrayList<>()));
    AppendResult first = Await.result(results.get(4));
    assertFalse(first.duplicate());
    assertEquals(5, first.publication().offset());
    assertEquals(6, Await.result(results.get(5)).publication().offset());
    for (int i : new int[] {6, 8}) {
      AppendResult repeat = Await.result(results.get(i));
      assertTrue(repeat.duplicate(), "append " + i);
      assertEquals(first.publication().id(), repeat.publication().id());
      assertEquals(first.publication().offset(), repeat.publication().offset());
      assertEquals(first.publication().epoch(), repeat.publication().epoch());
      assertEquals(first.publication().timestamp(), repeat.publication().timestamp());
    }
    AppendResult elsewhere = Await.result(results.get(7));
    assertFalse(elsewhere.duplicate(), "the key's scope is the channel");
    assertEquals(1, elsewhere.publication().offset());
    assertEquals(6, Await.result(store.position(ch, KEEP)).offset(), "the repeats stored nothing");
    assertEquals("first", history(ch, KEEP, null, 10, false).publications().get(4).data());
  }

  @Test
  @DisplayName("appends fired together: the rate limit admits exactly publishRatePerSecond, the rest rate_limited")
  void rateLimitWithinOneBatch() {
    String ch = channel();
    NamespaceOptions three = opts(100, 3600, 3);
    List<Publication> pubs = new ArrayList<>();
    for (int i = 0; i < 8; i++) pubs.add(pub(ch, i));
    List<Future<AppendResult>> results = fire(pubs, three, null, Collections.synchronizedList(new ArrayList<>()));
    List<Long> stored = new ArrayList<>();
    int refused = 0;
    for (Future<AppendResult> f : results) {
      if (accepted(f)) stored.add(f.result().publication().offset());
      else refused++;
    }
    // a rate window may end while they run: at least the first three pass, every refusal leaves no gap
    assertTrue(stored.size() >= 3 && refused >= 8 - 6, stored + ", refused " + refused);
    assertEquals(List.of(1L, 2L, 3L), stored.subList(0, 3));
    for (int i = 0; i < stored.size(); i++) assertEquals(i + 1L, stored.get(i));
    assertEquals(offsets(history(ch, three, null, 10, false).publications()), stored);
  }

  @Test
  @DisplayName("appends fired together whose options change mid-way keep one sequence; the new size trims it")
  void optionsChangeWithinOneBatch() {
    String ch = channel();
    NamespaceOptions two = opts(2, 3600, 0);
    List<Future<AppendResult>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Publication p = pub(ch, Priority.NORMAL, List.of(), "agent", 0, true);
      results.add(store.append(p, i < 3 ? KEEP : two, null));
    }
    for (int i = 0; i < 6; i++) assertEquals(i + 1L, Await.result(results.get(i)).publication().offset());
    assertEquals(List.of(5L, 6L), offsets(history(ch, two, null, 10, false).publications()));
    assertEquals(List.of(5L, 6L), offsets(Await.result(store.pending(ch, "u1"))), "ackable trimmed with the history");
  }

  @Test
  @DisplayName("ephemeral options are refused: nothing to store")
  void ephemeralRefused() {
    String ch = channel();
    serviceError(store.append(pub(ch, 1), opts(0, 3600, 0), null), ErrorCode.BAD_REQUEST);
    serviceError(store.position(ch, opts(10, 0, 0)), ErrorCode.BAD_REQUEST);
  }

  // --- answers bounded by bytes (store.maxHistoryBytes) --------------------------------------------------------

  /** The measure of store.maxHistoryBytes: the publication's encoded JSON. */
  static int size(Publication p) {
    return p.toJson().toBuffer().length();
  }

  static int size(List<Publication> pubs) {
    return pubs.stream().mapToInt(MessageStoreContract::size).sum();
  }

  /** A store on the same data whose answers hold at most {@code bytes} of publications. */
  MessageStore bounded(int bytes) {
    return sameData(new StoreSettings(1, 50, 100, bytes));
  }

  /** {@code n} publications of about 300 bytes, as stored (their sizes are what history returns). */
  List<Publication> appendSome(String ch, int n) {
    List<Publication> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(append(pub(ch, new JsonObject().put("text", "x".repeat(200 + i)))));
    return out;
  }

  @Test
  @DisplayName("history: a page holding exactly maxHistoryBytes is whole; one byte less cuts it with more and next")
  void historyBoundedByBytes() {
    String ch = channel();
    List<Publication> all = appendSome(ch, 6);
    String epoch = all.get(0).epoch();
    int three = size(all.subList(0, 3));

    HistoryPage at = history(bounded(three), ch, null, 10, false);
    assertEquals(all.subList(0, 3), at.publications(), "every byte of the bound is usable");
    assertTrue(at.more());
    assertEquals(new Position(3, epoch), at.next());
    assertEquals(6, at.offset());

    HistoryPage past = history(bounded(three - 1), ch, null, 10, false);
    assertEquals(all.subList(0, 2), past.publications());
    assertTrue(past.more());
    assertEquals(new Position(2, epoch), past.next());

    // the limit ends the page first: not cut by bytes, so no more
    HistoryPage limited = history(bounded(three), ch, null, 3, false);
    assertEquals(all.subList(0, 3), limited.publications());
    assertFalse(limited.more());
    assertEquals(null, limited.next());

    HistoryPage whole = history(bounded(size(all)), ch, null, 10, false);
    assertEquals(all, whole.publications());
    assertFalse(whole.more());
  }

  @Test
  @DisplayName("history: following next page by page returns every publication once, forward and reverse")
  void historyPagesContinueFromNext() {
    String ch = channel();
    List<Publication> all = appendSome(ch, 7);
    MessageStore small = bounded(size(all.subList(5, 7))); // any two fit (sizes grow), never three
    for (boolean reverse : new boolean[] {false, true}) {
      List<Publication> seen = new ArrayList<>();
      Position since = null;
      int pages = 0;
      while (true) {
        HistoryPage page = history(small, ch, since, 50, reverse);
        pages++;
        seen.addAll(page.publications());
        if (!page.more()) break;
        since = page.next();
        assertTrue(pages < 20, "pagination ends");
      }
      List<Publication> expected = new ArrayList<>(all);
      if (reverse) Collections.reverse(expected);
      assertEquals(expected, seen, reverse ? "reverse" : "forward");
      assertEquals(4, pages, "2 per page: 2+2+2+1");
    }
  }

  @Test
  @DisplayName("history: a publication alone larger than the bound still makes a page (progress), marked more")
  void historyOversizePublication() {
    String ch = channel();
    List<Publication> all = appendSome(ch, 2);
    HistoryPage one = history(bounded(1), ch, null, 10, false);
    assertEquals(all.subList(0, 1), one.publications());
    assertTrue(one.more());
    HistoryPage last = history(bounded(1), ch, one.next(), 10, false);
    assertEquals(all.subList(1, 2), last.publications());
    assertFalse(last.more(), "nothing after the last publication");
  }

  @Test
  @DisplayName("history: since and sinceTime together bound a continued page (a cut sinceTime page continues)")
  void sinceWithSinceTime() {
    String ch = channel();
    List<Publication> all = appendSome(ch, 4);
    long t2 = all.get(1).timestamp();
    HistoryPage page = Await.result(bounded(size(all)).history(
        new HistoryQuery(ch, KEEP, new Position(4, all.get(0).epoch()), t2, 10, true, null, null)));
    List<Publication> expected = new ArrayList<>(all.subList(0, 3));
    expected.removeIf(p -> p.timestamp() < t2);
    Collections.reverse(expected);
    assertEquals(expected, page.publications());
  }

  @Test
  @DisplayName("recovery: at the bound every publication fits; past it the rest is left for next, recovered stays true")
  void recoveryBoundedByBytes() {
    String ch = channel();
    List<Publication> all = appendSome(ch, 5);
    String epoch = all.get(0).epoch();
    Recovery at = Await.result(bounded(size(all.subList(1, 5))).recover(ch, 1, epoch, KEEP));
    assertTrue(at.recovered());
    assertEquals(all.subList(1, 5), at.publications());
    assertFalse(at.more());

    Recovery past = Await.result(bounded(size(all.subList(1, 5)) - 1).recover(ch, 1, epoch, KEEP));
    assertTrue(past.recovered());
    assertTrue(past.more());
    assertEquals(all.subList(1, 4), past.publications());
    assertEquals(5, past.offset(), "the channel's head, beyond what was returned");
    assertEquals(new Position(4, epoch), past.next(1));
    HistoryPage rest = history(bounded(size(all)), ch, past.next(1), 10, false);
    assertEquals(all.subList(4, 5), rest.publications(), "history from next returns the rest");
  }

  @Test
  @DisplayName("pending: bounded like history; since continues; a since of another epoch is unrecoverable_position")
  void pendingBoundedByBytes() {
    String ch = channel();
    List<Publication> needs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      needs.add(append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, true)));
      append(pub(ch, Priority.NORMAL, List.of(), "agent", 0, false));
    }
    String epoch = needs.get(0).epoch();
    PendingPage at = Await.result(bounded(size(needs.subList(0, 2))).pending(ch, "u1", null));
    assertEquals(needs.subList(0, 2), at.publications());
    assertTrue(at.more());
    assertEquals(new Position(needs.get(1).offset(), epoch), at.next());

    PendingPage past = Await.result(bounded(size(needs.subList(0, 2)) - 1).pending(ch, "u1", null));
    assertEquals(needs.subList(0, 1), past.publications());
    assertTrue(past.more());

    PendingPage rest = Await.result(bounded(size(needs)).pending(ch, "u1", at.next()));
    assertEquals(needs.subList(2, 4), rest.publications());
    assertFalse(rest.more());
    assertEquals(null, rest.next());
    assertEquals(needs, Await.result(bounded(size(needs)).pending(ch, "u1", null)).publications());

    serviceError(store.pending(ch, "u1", new Position(1, "0000beef")), ErrorCode.UNRECOVERABLE_POSITION);
    assertEquals(List.of(), Await.result(store.pending(channel(), "u1", null)).publications());
  }

  @Test
  @DisplayName("following more/next reads every visible publication once, also past expired ones filling the bound")
  void continuationSkipsExpired() {
    String ch = channel();
    Publication first = append(pub(ch, new JsonObject().put("keep", 0)));
    String pad = "e".repeat(400);
    Publication dying = null;
    for (int i = 0; i < 6; i++) {
      dying = append(new Publication(null, ch, 0, null, 0, "note", new JsonObject().put("pad", pad), "agent", "a1", null,
          null, 1, false, null));
    }
    Publication last = append(pub(ch, new JsonObject().put("keep", 1)));
    waitUntilPast(dying.timestamp() + 1000);
    MessageStore small = bounded(size(first) + 10);
    // recovery from 0, then history from next while more
    Recovery r = Await.result(small.recover(ch, 0, first.epoch(), KEEP));
    assertTrue(r.recovered());
    List<Publication> recovered = new ArrayList<>(r.publications());
    recovered.addAll(readOn(small, ch, r.more() ? r.next(0) : null));
    assertEquals(List.of(first, last), recovered);
    // history from the start, page by page
    assertEquals(List.of(first, last), readOn(small, ch, new Position(0, first.epoch())));
    // pending the same way
    assertEquals(List.of(), Await.result(small.pending(ch, "u1", null)).publications());
  }

  /** Every publication after {@code since} (null: none), following next while pages say more. */
  List<Publication> readOn(MessageStore s, String ch, Position since) {
    List<Publication> out = new ArrayList<>();
    Position next = since;
    for (int pages = 0; next != null; pages++) {
      assertTrue(pages < 20, "pagination ends");
      HistoryPage page = history(s, ch, next, 50, false);
      out.addAll(page.publications());
      next = page.next();
    }
    return out;
  }

  HistoryPage history(MessageStore s, String channel, Position since, int limit, boolean reverse) {
    return Await.result(s.history(new HistoryQuery(channel, KEEP, since, null, limit, reverse, null, null)));
  }

}
