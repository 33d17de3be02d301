package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook queue and the occupancy store, each test run on both engines: memory, and a real Redis (two
 * connections, as two presence-service JVMs would have).
 */
class WebhookStoresTest {
  private static Vertx vertx;
  private static List<RedisConnector> connectors = new ArrayList<>();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    connectors.forEach(RedisConnector::close);
    Await.result(vertx.close());
  }

  private static RedisConnector redis() {
    RedisConnector c = RedisConnector.create(vertx, new JsonObject().put("url", TestRedis.shared().url()).put("poolSize", 4));
    connectors.add(c);
    return c;
  }

  /** Two handles on one queue per engine (for Redis: two connections), each test on a fresh memory queue. */
  private static void queues(Consumer<WebhookQueue[]> test) {
    test.accept(new WebhookQueue[] {new MemoryWebhookQueue(), null});
    Await.result(redis().send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.DEL)
        .arg(RedisWebhookQueue.KEYS.get(0)).arg(RedisWebhookQueue.KEYS.get(1)).arg(RedisWebhookQueue.KEYS.get(2))));
    test.accept(new WebhookQueue[] {new RedisWebhookQueue(redis()), new RedisWebhookQueue(redis())});
  }

  private static void occupancies(Consumer<OccupancyStore[]> test) {
    MemoryOccupancyStore m = new MemoryOccupancyStore();
    test.accept(new OccupancyStore[] {m, m});
    test.accept(new OccupancyStore[] {new RedisOccupancyStore(redis()), new RedisOccupancyStore(redis())});
  }

  private static JsonObject item(String n) {
    return new JsonObject().put("app", "a").put("url", "http://x").put("event", new JsonObject().put("name", n)).put("at", 1).put("attempts", 0);
  }

  private static <T> T await(Future<T> f) {
    return Await.result(f);
  }

  private static List<String> names(List<WebhookQueue.Claimed> claimed) {
    return claimed.stream().map(c -> c.item().getJsonObject("event").getString("name")).toList();
  }

  // --- queue ------------------------------------------------------------------------------------------

  @Test
  void aHeldEventAndItsOppositeAreBothDroppedWithinTheHoldButNotOnceClaimed() {
    queues(q -> {
      WebhookQueue queue = q[0];
      String hold = "c|room-" + System.nanoTime();
      assertTrue(await(queue.enqueue(List.of(item("vacated")), WebhookQueue.Kind.HOLD, hold, 1000, 4000)));
      assertEquals(List.of(), await(queue.claim(3999, 10, 10_000)), "held until due");
      assertFalse(await(queue.enqueue(List.of(item("occupied")), WebhookQueue.Kind.CANCEL, hold, 2000, 2000)), "the pair is dropped");
      assertEquals(List.of(), await(queue.claim(50_000, 10, 60_000)));
      // held again, claimed (being sent): the opposite event is no longer a pair to drop
      assertTrue(await(queue.enqueue(List.of(item("vacated")), WebhookQueue.Kind.HOLD, hold, 1000, 4000)));
      List<WebhookQueue.Claimed> claimed = await(queue.claim(4000, 10, 10_000));
      assertEquals(List.of("vacated"), names(claimed));
      assertTrue(await(queue.enqueue(List.of(item("occupied")), WebhookQueue.Kind.CANCEL, hold, 4001, 4001)));
      await(queue.done(claimed.stream().map(WebhookQueue.Claimed::id).toList()));
      List<WebhookQueue.Claimed> next = await(queue.claim(60_000, 10, 70_000));
      assertEquals(List.of("occupied"), names(next));
      await(queue.done(next.stream().map(WebhookQueue.Claimed::id).toList()));
    });
  }

  @Test
  void aClaimIsLeasedToOneClaimerAndDueAgainAfterTheLeaseUntilDoneOrRetried() {
    queues(q -> {
      WebhookQueue first = q[0];
      WebhookQueue second = q[1] != null ? q[1] : q[0];
      for (int i = 0; i < 20; i++) await(first.enqueue(List.of(item("e" + i)), WebhookQueue.Kind.PLAIN, null, 100, 100));
      List<WebhookQueue.Claimed> a = await(first.claim(100, 12, 1000));
      List<WebhookQueue.Claimed> b = await(second.claim(100, 12, 1000));
      assertEquals(12, a.size());
      assertEquals(8, b.size());
      Set<String> ids = new HashSet<>();
      a.forEach(c -> ids.add(c.id()));
      b.forEach(c -> ids.add(c.id()));
      assertEquals(20, ids.size(), "no item claimed twice");
      assertEquals(List.of(), await(second.claim(999, 100, 2000)), "leased");
      await(first.done(a.stream().map(WebhookQueue.Claimed::id).toList()));
      List<WebhookQueue.Claimed> retried = List.of(new WebhookQueue.Claimed(b.get(0).id(), b.get(0).item().copy().put("attempts", 1)));
      await(second.retry(retried, 5000));
      // the lease of the other 7 ends at 1000: they are due again (the sender died); the retried one at 5000
      List<WebhookQueue.Claimed> again = await(first.claim(1000, 100, 3000));
      assertEquals(7, again.size());
      await(first.done(again.stream().map(WebhookQueue.Claimed::id).toList()));
      List<WebhookQueue.Claimed> last = await(first.claim(5000, 100, 6000));
      assertEquals(1, last.size());
      assertEquals(1, last.get(0).item().getInteger("attempts"));
      await(first.done(List.of(last.get(0).id())));
      assertEquals(List.of(), await(first.claim(100_000, 100, 200_000)));
    });
  }

  // --- occupancy ------------------------------------------------------------------------------------

  @Test
  void aChannelIsOccupiedByItsFirstNodeAndVacatedByItsLastOnce() {
    occupancies(s -> {
      String ch = "room-" + System.nanoTime();
      long far = Long.MAX_VALUE / 4;
      assertEquals(OccupancyStore.OCCUPIED, await(s[0].change("n1", 1, ch, true, far)));
      assertEquals(0, await(s[1].change("n2", 1, ch, true, far)));
      assertEquals(0, await(s[0].change("n1", 1, ch, true, far)), "a repeated change");
      assertEquals(0, await(s[1].change("n1", 2, ch, false, far)));
      assertEquals(OccupancyStore.VACATED, await(s[0].change("n2", 2, ch, false, far)));
      assertEquals(0, await(s[1].change("n2", 2, ch, false, far)), "a repeated change");
    });
  }

  @Test
  void aNodesChangeThatArrivesAfterItsLaterChangeIsIgnored() {
    occupancies(s -> {
      String ch = "late-" + System.nanoTime();
      long far = Long.MAX_VALUE / 4;
      assertEquals(OccupancyStore.OCCUPIED, await(s[0].change("n1", 5, ch, true, far)));
      assertEquals(OccupancyStore.VACATED, await(s[0].change("n1", 7, ch, false, far)));
      assertEquals(0, await(s[1].change("n1", 6, ch, true, far)), "seq 6 was overtaken by seq 7");
      assertEquals(OccupancyStore.OCCUPIED, await(s[1].change("n1", 8, ch, true, far)));
      assertEquals(OccupancyStore.VACATED, await(s[1].change("n1", 9, ch, false, far)));
    });
  }

  @Test
  void aDeadNodesChannelsAreVacatedByOneSweeperAndTheNodeLearnsItWhenItComesBack() {
    occupancies(s -> {
      String shared = "shared-" + System.nanoTime();
      String alone = "alone-" + System.nanoTime();
      String dead = "dead-" + System.nanoTime();
      long far = Long.MAX_VALUE / 4;
      await(s[0].change("live", 1, shared, true, far));
      await(s[0].change(dead, 1, shared, true, 1000));
      assertEquals(OccupancyStore.OCCUPIED, await(s[0].change(dead, 2, alone, true, 1000)));
      assertTrue(await(s[0].alive(dead, 2000)));
      assertFalse(await(s[0].sweep(1999)).contains(alone), "alive until its deadline");
      List<String> one = await(s[0].sweep(2000));
      List<String> other = await(s[1].sweep(2000));
      assertEquals(List.of(alone), one.contains(alone) ? one.stream().filter(c -> c.equals(alone) || c.equals(shared)).toList()
          : other.stream().filter(c -> c.equals(alone) || c.equals(shared)).toList(), "only the channel it held alone is vacated");
      assertFalse(one.contains(alone) && other.contains(alone), "vacated once");
      assertFalse(await(s[1].alive(dead, far)), "it was taken for dead");
      assertTrue(await(s[1].alive(dead, far)));
      assertEquals(OccupancyStore.OCCUPIED, await(s[1].change(dead, 3, alone, true, far)), "re-announced");
      await(s[0].change(dead, 4, alone, false, far));
      await(s[0].change("live", 2, shared, false, far));
    });
  }
}
