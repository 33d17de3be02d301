package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * How the Redis engine batches appends ({@link RedisAppends}), made deterministic with a real Redis: {@code CLIENT
 * PAUSE WRITE} holds the script calls in flight while the test fires more appends, which therefore wait in the queue
 * and go out together once Redis resumes.
 */
class RedisBatchingTest {
  static final NamespaceOptions KEEP = MessageStoreContract.KEEP;

  private Vertx vertx;
  private TestRedis redis;
  private RedisConnector raw;
  private final List<RedisMessageStore> stores = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void cleanUp() {
    for (RedisMessageStore s : stores) Await.result(s.close());
    if (raw != null) raw.close();
    Await.result(vertx.close());
    if (redis != null) redis.stop();
  }

  private RedisMessageStore open(String url, RedisAppends.Tuning tuning) {
    RedisMessageStore s = new RedisMessageStore(RedisConnector.create(vertx, new JsonObject().put("url", url)),
        MessageStoreContract.SETTINGS, tuning);
    stores.add(s);
    return s;
  }

  private void redis(String... args) {
    Request r = Request.cmd(Command.create(args[0]));
    for (int i = 1; i < args.length; i++) r.arg(args[i]);
    Await.result(raw.send(r));
  }

  /** Runs {@code work} on the store's context and waits for it (appends from there form batches deterministically). */
  private static void onStore(RedisMessageStore store, Runnable work) {
    io.vertx.core.Promise<Void> ran = io.vertx.core.Promise.promise();
    store.context().runOnContext(v -> {
      work.run();
      ran.complete();
    });
    Await.result(ran.future());
  }

  /** Holds every script call (a write) until {@link #resume}; the pausing command itself is answered at once. */
  private void pause() {
    redis("CLIENT", "PAUSE", "20000", "WRITE");
  }

  private void resume() {
    redis("CLIENT", "UNPAUSE");
  }

  private TestRedis dedicated(boolean persistent) {
    redis = persistent ? TestRedis.dedicatedPersistent() : TestRedis.dedicated();
    raw = RedisConnector.create(vertx, new JsonObject().put("url", redis.url()));
    return redis;
  }

  @ParameterizedTest(name = "call per channel: {0}")
  @ValueSource(booleans = {false, true})
  @DisplayName("appends queued behind calls in flight go out batched: order, contiguous offsets, idempotency kept")
  void queuedAppendsAreBatched(boolean callPerChannel) {
    dedicated(false);
    RedisMessageStore store = open(redis.url(), RedisAppends.Tuning.DEFAULT.withCallPerChannel(callPerChannel));
    String a = MessageStoreContract.channel();
    String b = MessageStoreContract.channel();
    Await.result(store.append(MessageStoreContract.pub(a, "warm"), KEEP, null)); // the connection is open
    int calls0 = store.appendCalls();
    pause();
    List<Future<AppendResult>> results = new ArrayList<>();
    int n = 300;
    onStore(store, () -> { // fired on the store's context, as the store verticle does: the first 2 go out at once
      for (int i = 0; i < n; i++) {
        String key = i == 10 || i == 20 ? "same" : null; // the same key twice within one batch, channel a
        results.add(store.append(MessageStoreContract.pub(i % 2 == 0 ? a : b, i), KEEP, key));
      }
    });
    // the default 2 calls in flight (held by the pause) and the rest queued: nothing answered yet
    assertEquals(2, store.appendCalls() - calls0, "only the calls in flight were sent");
    assertTrue(results.stream().noneMatch(Future::isComplete));
    resume();
    long[] next = {2, 1}; // a had "warm"
    for (int i = 0; i < n; i++) {
      AppendResult r = Await.result(results.get(i));
      int ch = i % 2;
      if (i == 20) {
        assertTrue(r.duplicate(), "the second use of the key answers the first");
        Publication firstUse = results.get(10).result().publication();
        assertEquals(List.of(firstUse.id(), firstUse.offset(), firstUse.epoch(), firstUse.timestamp()),
            List.of(r.publication().id(), r.publication().offset(), r.publication().epoch(), r.publication().timestamp()));
        continue;
      }
      assertFalse(r.duplicate(), "append " + i);
      assertEquals(next[ch]++, r.publication().offset(), "append " + i);
    }
    // 2 single calls, then batches of at most maxBatch appends: one call each, or one per channel
    int max = RedisAppends.Tuning.DEFAULT.maxBatch();
    int batches = (n - 2 + max - 1) / max;
    assertEquals(2 + batches * (callPerChannel ? 2 : 1), store.appendCalls() - calls0);
    assertEquals(new Position(next[0] - 1, results.get(0).result().publication().epoch()),
        Await.result(store.position(a, KEEP)));
    assertEquals(next[1] - 1, Await.result(store.position(b, KEEP)).offset());
  }

  @Test
  @DisplayName("a batch holds at most maxBatchBytes of publications: exactly the bound fits, past it a new batch; a larger one goes alone")
  void batchBoundedByBytes() {
    dedicated(false);
    String ch = MessageStoreContract.channel();
    Publication sample = MessageStoreContract.pub(ch, "x".repeat(100));
    long now = System.currentTimeMillis();
    int one = RedisMessageStore.storedJson(sample.withPosition(io.switchboard.common.Ids.ulid(now), 0, null, now)).length();
    RedisAppends.Tuning d = RedisAppends.Tuning.DEFAULT;
    RedisMessageStore store = open(redis.url(), new RedisAppends.Tuning(2, d.maxBatch(), 3 * one, false, d.maxQueued()));
    Await.result(store.append(MessageStoreContract.pub(ch, "warm"), KEEP, null));
    int calls0 = store.appendCalls();
    pause();
    List<Future<AppendResult>> results = new ArrayList<>();
    onStore(store, () -> {
      for (int i = 0; i < 2; i++) results.add(store.append(sample, KEEP, null)); // the 2 calls in flight
      results.add(store.append(MessageStoreContract.pub(ch, "y".repeat(10 * one)), KEEP, null)); // alone, over the bound
      for (int i = 0; i < 7; i++) results.add(store.append(sample, KEEP, null)); // 3 + 3 (exactly the bound) + 1
    });
    resume();
    for (int i = 0; i < results.size(); i++) assertEquals(i + 2L, Await.result(results.get(i)).publication().offset());
    assertEquals(2 + 1 + 3, store.appendCalls() - calls0);
  }

  @Test
  @DisplayName("a channel whose keys are broken fails its own appends in a batch with the Redis error; the others store")
  void oneChannelFailsAlone() {
    dedicated(false);
    RedisMessageStore store = open(redis.url(), RedisAppends.Tuning.DEFAULT);
    String good = MessageStoreContract.channel();
    String badMeta = MessageStoreContract.channel();
    String badHistory = MessageStoreContract.channel();
    Await.result(store.append(MessageStoreContract.pub(good, 0), KEEP, null));
    Await.result(store.append(MessageStoreContract.pub(badHistory, 0), KEEP, null)); // meta made: epoch, offset 1
    redis("HSET", RedisKeys.meta(badMeta), "f", "v"); // GET meta fails
    redis("SET", RedisKeys.history(badHistory), "not a stream"); // XADD fails
    pause();
    List<Future<AppendResult>> results = new ArrayList<>();
    onStore(store, () -> {
      for (int i = 0; i < 2; i++) results.add(store.append(MessageStoreContract.pub(good, "in flight"), KEEP, null));
      for (int i = 0; i < 4; i++) {
        for (String ch : List.of(good, badMeta, badHistory)) results.add(store.append(MessageStoreContract.pub(ch, i), KEEP, null));
      }
    });
    resume();
    long offset = 2;
    for (int k = 0; k < results.size(); k++) {
      String ch = k < 2 ? good : List.of(good, badMeta, badHistory).get((k - 2) % 3);
      if (ch.equals(good)) {
        assertEquals(offset++, Await.result(results.get(k)).publication().offset());
      } else {
        ServiceError e = assertInstanceOf(ServiceError.class, Await.failure(results.get(k)));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("WRONGTYPE"), e.getMessage());
      }
    }
    assertEquals(offset - 1, Await.result(store.position(good, KEEP)).offset());
  }

  @Test
  @DisplayName("Redis stopped with a batch queued: every append of it fails unavailable, none is stored")
  void redisStoppedMidBatch() {
    dedicated(true);
    RedisMessageStore store = open(redis.url(), RedisAppends.Tuning.DEFAULT);
    String ch = MessageStoreContract.channel();
    Publication first = null;
    for (int i = 0; i < 3; i++) first = Await.result(store.append(MessageStoreContract.pub(ch, i), KEEP, null)).publication();
    pause();
    List<Future<AppendResult>> results = new ArrayList<>();
    for (int i = 0; i < 100; i++) results.add(store.append(MessageStoreContract.pub(ch, "lost " + i), KEEP, "k" + i));
    redis.stop();
    for (Future<AppendResult> f : results) {
      ServiceError e = assertInstanceOf(ServiceError.class, Await.failure(f));
      assertEquals(ErrorCode.UNAVAILABLE, e.code(), e.getMessage());
    }
    redis.start();
    // the restarted Redis kept what it had stored (append-only file): the 3 appends, none of the failed ones
    Await.until("appends work again",
        () -> store.append(MessageStoreContract.pub(ch, "after"), KEEP, "after").transform(ar -> Future.succeededFuture(ar.succeeded())).await());
    HistoryPage h = Await.result(store.history(new HistoryQuery(ch, KEEP, null, null, 50, false, null, null)));
    assertEquals(List.of(1L, 2L, 3L, 4L), h.publications().stream().map(Publication::offset).toList());
    assertEquals("after", h.publications().get(3).data());
    assertEquals(first.epoch(), h.epoch(), "history was kept, so the epoch too");
  }

  @Test
  @DisplayName("at most maxQueued appends wait for Redis: at the bound they are kept, past it refused unavailable")
  void queueIsBounded() {
    dedicated(false);
    RedisAppends.Tuning d = RedisAppends.Tuning.DEFAULT;
    RedisMessageStore store = open(redis.url(), new RedisAppends.Tuning(2, d.maxBatch(), d.maxBatchBytes(), false, 10));
    String ch = MessageStoreContract.channel();
    Await.result(store.append(MessageStoreContract.pub(ch, "warm"), KEEP, null));
    pause();
    List<Future<AppendResult>> kept = new ArrayList<>();
    List<Future<AppendResult>> over = new ArrayList<>();
    onStore(store, () -> {
      for (int i = 0; i < 12; i++) kept.add(store.append(MessageStoreContract.pub(ch, i), KEEP, null)); // 2 sent, 10 wait
      over.add(store.append(MessageStoreContract.pub(ch, "past"), KEEP, null));
    });
    Future<AppendResult> past = over.get(0);
    ServiceError e = assertInstanceOf(ServiceError.class, Await.failure(past));
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    assertTrue(e.getMessage().contains("overloaded"), e.getMessage());
    resume();
    for (int i = 0; i < kept.size(); i++) assertEquals(i + 2L, Await.result(kept.get(i)).publication().offset());
  }

  @Test
  @DisplayName("after Vert.x closed, an append and a read from another thread fail unavailable at once instead of waiting forever")
  void closedVertxFailsInsteadOfHanging() {
    dedicated(false);
    Vertx own = Vertx.vertx();
    RedisMessageStore store = new RedisMessageStore(RedisConnector.create(own, new JsonObject().put("url", redis.url())),
        MessageStoreContract.SETTINGS, RedisAppends.Tuning.DEFAULT);
    String ch = MessageStoreContract.channel();
    Await.result(store.append(MessageStoreContract.pub(ch, "warm"), KEEP, null));
    Await.result(own.close());
    ServiceError append = assertInstanceOf(ServiceError.class,
        Await.failure(store.append(MessageStoreContract.pub(ch, "late"), KEEP, null)));
    assertEquals(ErrorCode.UNAVAILABLE, append.code(), append.getMessage());
    assertTrue(append.getMessage().contains("closed"), append.getMessage());
    ServiceError read = assertInstanceOf(ServiceError.class, Await.failure(store.position(ch, KEEP)));
    assertEquals(ErrorCode.UNAVAILABLE, read.code(), read.getMessage());
  }
}
