package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract against a real Redis, plus what only Redis has: key layout, TTLs, batching, outages. */
class RedisPresenceStoreTest extends PresenceStoreContract {
  private static Vertx vertx;
  private static RedisConnector redis;
  private static RedisPresenceStore store;
  private static RedisPresenceStore other;

  @BeforeAll
  static void connect() {
    vertx = Vertx.vertx();
    redis = connector(TestRedis.shared().url());
    store = new RedisPresenceStore(redis, 60_000);
    other = new RedisPresenceStore(connector(TestRedis.shared().url()), 60_000);
  }

  @AfterAll
  static void close() {
    Await.result(store.close());
    Await.result(other.close());
    Await.result(vertx.close());
  }

  private static RedisConnector connector(String url) {
    return RedisConnector.create(vertx, new JsonObject().put("url", url).put("poolSize", 8));
  }

  @Override
  protected PresenceStore store() {
    return store;
  }

  @Override
  protected PresenceStore sameStorage() {
    return other;
  }

  private static Response redis(Command command, Object... args) {
    Request r = Request.cmd(command);
    for (Object a : args) r.arg(a.toString());
    return Await.result(redis.send(r));
  }

  private static long pttl(String key) {
    return redis(Command.PTTL, key).toLong();
  }

  @Test
  void keysAreTaggedAndExpireAndVanishWhenEmpty() {
    String a = channel("a");
    Await.result(store.join(join(client("1"), t0, a), t0 + 60_000));
    Await.result(store.setState(a, client("1"), new JsonObject().put("x", 1)));
    assertEquals("sb:presence:{" + a + "}:members", RedisPresenceStore.channelKey(a));
    for (String key : List.of(RedisPresenceStore.DEADLINES, RedisPresenceStore.clientKey(client("1")), RedisPresenceStore.channelKey(a))) {
      long ttl = pttl(key);
      assertTrue(ttl > 3_500_000 && ttl <= 3_600_000, key + " has a TTL of an hour, got " + ttl);
    }

    Await.result(store.leave(client("1"), null));
    assertEquals(0, redis(Command.EXISTS, RedisPresenceStore.channelKey(a)).toInteger(), "an empty channel leaves no key");
    assertEquals(0, redis(Command.EXISTS, RedisPresenceStore.clientKey(client("1"))).toInteger());
    assertNull(redis(Command.ZSCORE, RedisPresenceStore.DEADLINES, client("1")));

    Await.result(store.join(join(client("2"), t0, a), t0 + 1));
    assertEquals(1, mine(Await.result(store.sweep(t0 + 1))).size());
    assertEquals(0, redis(Command.EXISTS, RedisPresenceStore.channelKey(a)).toInteger(), "a sweep leaves no key either");
    assertEquals(0, redis(Command.EXISTS, RedisPresenceStore.clientKey(client("2"))).toInteger());
  }

  @Test
  void refreshesExtendChannelTtlsOnlyWhenDue() {
    AtomicLong clock = new AtomicLong(t0);
    RedisPresenceStore timed = new RedisPresenceStore(redis, 60_000, 500, clock::get);
    String a = channel("a"), key = RedisPresenceStore.channelKey(a);
    Await.result(timed.join(join(client("1"), t0, a), t0 + 600_000));
    redis(Command.PEXPIRE, key, 5_000); // as if the key had aged

    clock.set(t0 + 29_999);
    Await.result(timed.refresh("node-1", List.of(client("1")), t0 + 600_000));
    assertTrue(pttl(key) <= 5_000, "not due before half the TTL");

    clock.set(t0 + 30_000);
    Await.result(timed.refresh("node-1", List.of(client("1")), t0 + 600_000));
    assertTrue(pttl(key) > 55_000, "due at half the TTL: extended to the full TTL");

    redis(Command.PEXPIRE, key, 5_000);
    clock.set(t0 + 31_000);
    Await.result(timed.refresh("node-1", List.of(client("1")), t0 + 600_000));
    assertTrue(pttl(key) <= 5_000, "the next extension is due half a TTL later");
    Await.result(timed.leave(client("1"), null));
  }

  @Test
  void refreshCoversNodesLargerThanOneScriptCall() {
    int size = RedisPresenceStore.REFRESH_CHUNK + 1;
    List<String> clients = new ArrayList<>();
    for (int i = 0; i < size; i++) clients.add(client("r" + i));
    String a = channel("a");
    Await.result(store.join(join(clients.get(0), t0, a), t0 + 1_000));
    Await.result(store.join(join(clients.get(size - 2), t0, a), t0 + 1_000)); // last of the first call
    Await.result(store.join(join(clients.get(size - 1), t0, a), t0 + 1_000)); // alone in the second call
    Await.result(store.refresh("node-1", clients, t0 + 5_000));
    assertEquals(List.of(), mine(Await.result(store.sweep(t0 + 4_000))));
    assertEquals(3, mine(Await.result(store.sweep(t0 + 5_000))).size());
  }

  @Test
  void sweepClaimsInBatchesAtAndPastTheBatchSize() throws Exception {
    RedisPresenceStore small = new RedisPresenceStore(redis, 3_600_000, 3, System::currentTimeMillis);
    // exactly one batch, then past it; a long-past "now" base keeps other tests' clients out of the count
    long base = 1_000;
    for (int i = 0; i < 3; i++) Await.result(small.join(join(client("x" + i), t0, channel("x")), base));
    assertEquals(3, mine(Await.result(small.sweep(base))).size());

    RedisPresenceStore[] sweepers = {small, new RedisPresenceStore(redis, 3_600_000, 3, System::currentTimeMillis)};
    for (int i = 0; i < 10; i++) Await.result(small.join(join(client("y" + i), t0, channel("y"), channel("z")), base + i));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<List<PresenceMember>>> sweeps = new ArrayList<>();
      for (RedisPresenceStore s : sweepers) {
        sweeps.add(pool.submit(() -> {
          go.await();
          return Await.result(s.sweep(base + 10));
        }));
      }
      go.countDown();
      Set<String> seen = new HashSet<>();
      int total = 0;
      for (Future<List<PresenceMember>> f : sweeps) {
        for (PresenceMember m : mine(f.get())) {
          seen.add(m.channel() + "/" + m.client());
          total++;
        }
      }
      assertEquals(20, total);
      assertEquals(20, seen.size());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void membersWithoutADeadlineAreNotShown() {
    String a = channel("a");
    Await.result(store.join(join(client("1"), t0, a), t0 + 60_000));
    Await.result(store.join(join(client("2"), t0 + 1, a), t0 + 60_000));
    redis(Command.ZREM, RedisPresenceStore.DEADLINES, client("1")); // a sweeper died between claim and removal
    assertEquals(List.of(client("2")), Await.result(store.members(a)).stream().map(PresenceMember::client).toList());
  }

  @Test
  void scriptsAreReloadedAfterRedisForgetsThem() {
    String a = channel("a");
    Await.result(store.join(join(client("1"), t0, a), t0 + 60_000));
    redis(Command.SCRIPT, "FLUSH");
    assertEquals(1, Await.result(store.members(a)).size());
  }

  @Test
  void redisDownIsUnavailable() {
    RedisConnector dead = connector("redis://127.0.0.1:" + Ports.free());
    RedisPresenceStore down = new RedisPresenceStore(dead, 60_000);
    try {
      List<io.vertx.core.Future<?>> calls = List.of(
          down.join(join(client("1"), t0, channel("a")), t0 + 1_000),
          down.leave(client("1"), null),
          down.refresh("node-1", List.of(client("1")), t0),
          down.members(channel("a")),
          down.setState(channel("a"), client("1"), new JsonObject()),
          down.sweep(t0));
      for (io.vertx.core.Future<?> call : calls) {
        ServiceError e = assertInstanceOf(ServiceError.class, Await.failure(call));
        assertEquals(ErrorCode.UNAVAILABLE, e.code(), e.getMessage());
      }
    } finally {
      down.close();
    }
  }
}
