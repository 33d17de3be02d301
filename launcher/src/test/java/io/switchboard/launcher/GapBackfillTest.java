package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Fanout;
import io.switchboard.common.Publication;
import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The bus is at-most-once: a lost or reordered fan-out message must never become a lost or reordered delivery.
 * The test makes the bus lose publications (by hiding the gateway's interest while they are published) and
 * reorder them (by sending stored publications to the gateway node in the wrong order).
 */
class GapBackfillTest {
  private final TestServer s = SharedServer.get();

  private List<Integer> dataOf(WsClient c, String channel, int n) {
    return java.util.stream.IntStream.range(0, n).mapToObj(i -> c.event(channel, "n").getInteger("data")).toList();
  }

  @Test
  void lostBusMessagesAreBackfilledFromTheStoreInOrder() {
    String token = s.token("gap", TestServer.allGrants());
    Fanout fanout = Fanout.of(s.sb.vertx());
    try (WsClient sub = s.connect(token); WsClient pub = s.connect(token)) {
      sub.subscribe("task:gap");
      pub.result("publish", new JsonObject().put("channel", "task:gap").put("event", "n").put("data", 1));
      assertEquals(List.of(1), dataOf(sub, "task:gap", 1));
      Set<String> nodes = fanout.nodesOf("task:gap");
      assertEquals(1, nodes.size());
      String node = nodes.iterator().next();

      // the bus "loses" 2 and 3: nobody is routed to
      fanout.removeInterest(node, "task:gap");
      pub.result("publish", new JsonObject().put("channel", "task:gap").put("event", "n").put("data", 2));
      pub.result("publish", new JsonObject().put("channel", "task:gap").put("event", "n").put("data", 3));
      fanout.addInterest(node, "task:gap");
      // 4 arrives: the gateway sees the gap, backfills 2 and 3 from the store, then delivers 4
      pub.result("publish", new JsonObject().put("channel", "task:gap").put("event", "n").put("data", 4));
      assertEquals(List.of(2, 3, 4), dataOf(sub, "task:gap", 3));
      assertTrue(s.metric("switchboard_backfills_total") >= 1, "the gap shows in /metrics");
    }
  }

  /**
   * The last publications of a burst lost on the bus, and none after them to reveal the gap (a member dropped by the
   * cluster for a while): the tail check reads the idle channel's head and delivers them, in order, without waiting
   * for another publication. Its period is 1 s here (30 s by default).
   */
  @Test
  void aLostTailIsDeliveredByTheTailCheckWithoutAnotherPublication() {
    try (TestServer own = TestServer.start(new JsonObject().put("gateway", new JsonObject().put("tailCheckMs", 1000)))) {
      String token = own.token("tail", TestServer.allGrants());
      Fanout fanout = Fanout.of(own.sb.vertx());
      java.util.concurrent.atomic.AtomicInteger headsAsked = new java.util.concurrent.atomic.AtomicInteger();
      own.sb.vertx().eventBus().addOutboundInterceptor(dc -> {
        if (Addresses.STORE_HEADS.equals(dc.message().address())) headsAsked.incrementAndGet();
        dc.next();
      });
      try (WsClient sub = own.connect(token); WsClient pub = own.connect(token)) {
        // the bus "loses" 2 and 3 and nothing is published after them
        String node = loseTheLastTwo(own, sub, pub, "task:tailcheck");
        assertEquals(List.of(2, 3), dataOf(sub, "task:tailcheck", 2));
        assertEquals(1.0, own.metric("switchboard_tail_backfills_total"), "delivered by the tail check");
        assertTrue(headsAsked.get() >= 1, "the tail check reads heads with store.heads");

        // nothing twice: the next event after them is the next publication
        fanout.addInterest(node, "task:tailcheck");
        pub.result("publish", new JsonObject().put("channel", "task:tailcheck").put("event", "n").put("data", 4));
        assertEquals(List.of(4), dataOf(sub, "task:tailcheck", 1));
      }
    }
  }

  /**
   * A store of an older version has no {@code store.heads} (a rolling upgrade with the gateways first): the event bus
   * answers "no handlers", and the tail check asks {@code store.position} instead, as before, and still delivers the
   * lost tail. The store's {@code store.heads} consumer is hidden by an interceptor that answers as the bus would.
   */
  @Test
  void theTailCheckFallsBackToPositionReadsWithAStoreWithoutHeads() {
    try (TestServer own = TestServer.start(new JsonObject().put("gateway", new JsonObject().put("tailCheckMs", 1000)))) {
      java.util.concurrent.atomic.AtomicInteger headsAsked = new java.util.concurrent.atomic.AtomicInteger();
      // position requests that followed a refused store.heads: the fallback's
      java.util.concurrent.atomic.AtomicInteger fallbacks = new java.util.concurrent.atomic.AtomicInteger();
      io.vertx.core.eventbus.EventBus bus = own.sb.vertx().eventBus();
      io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> olderStore = dc -> {
        String address = dc.message().address();
        if (Addresses.STORE_HEADS.equals(address)) {
          headsAsked.incrementAndGet();
          bus.send(dc.message().replyAddress(), new io.vertx.core.eventbus.ReplyException(
              io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS, "No handlers for address " + address));
          return; // never delivered to the store
        }
        if (Addresses.STORE_POSITION.equals(address) && headsAsked.get() > 0) fallbacks.incrementAndGet();
        dc.next();
      };
      bus.addOutboundInterceptor(olderStore);
      String token = own.token("tail-old", TestServer.allGrants());
      try (WsClient sub = own.connect(token); WsClient pub = own.connect(token)) {
        loseTheLastTwo(own, sub, pub, "task:tail-old");
        assertEquals(List.of(2, 3), dataOf(sub, "task:tail-old", 2));
        assertEquals(1.0, own.metric("switchboard_tail_backfills_total"), "delivered by the tail check");
        assertTrue(headsAsked.get() >= 1, "store.heads was asked first");
        assertTrue(fallbacks.get() >= 1, "then store.position");
      } finally {
        bus.removeOutboundInterceptor(olderStore);
      }
    }
  }

  /**
   * {@code sub} subscribes to {@code ch} and gets 1; once its settle check has run (what follows can only be a tail
   * check's), the bus "loses" 2 and 3: the node's interest is hidden while they are published, and stays hidden.
   * Returns the node, whose interest the caller may restore.
   */
  private String loseTheLastTwo(TestServer own, WsClient sub, WsClient pub, String ch) {
    Fanout fanout = Fanout.of(own.sb.vertx());
    double backfills = own.metric("switchboard_backfills_total");
    sub.subscribe(ch);
    pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 1));
    assertEquals(List.of(1), dataOf(sub, ch, 1));
    Await.until("the settle check ran", () -> own.metric("switchboard_backfills_total") > backfills);
    String node = fanout.nodesOf(ch).iterator().next();
    fanout.removeInterest(node, ch);
    pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 2));
    pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 3));
    return node;
  }

  /**
   * A member came back after a split (what {@link Fanout} announces with a sync request {@code tails:true}): the
   * gateway checks its quiet channels' tails within a few seconds instead of at its next periodic check (an hour away
   * here), so publications routed nowhere while the cluster was apart arrive without waiting for it — also on a channel
   * that had got publications since the last periodic check (which that check would skip once).
   */
  @Test
  void aSyncRequestAfterASplitChecksTheTailsAtOnce() {
    try (TestServer own = TestServer.start(new JsonObject().put("gateway", new JsonObject().put("tailCheckMs", 3_600_000)))) {
      String token = own.token("resync", TestServer.allGrants());
      Fanout fanout = Fanout.of(own.sb.vertx());
      try (WsClient sub = own.connect(token); WsClient pub = own.connect(token)) {
        String node = loseTheLastTwo(own, sub, pub, "task:resync");
        fanout.addInterest(node, "task:resync");
        // nothing else would deliver them: nothing is published after them, and the first periodic tail check lies at
        // a random point of the next hour
        own.sb.vertx().eventBus().publish(Addresses.GATEWAY_INTEREST_SYNC, new JsonObject().put("tails", true));
        assertEquals(List.of(2, 3), dataOf(sub, "task:resync", 2));
        assertEquals(1.0, own.metric("switchboard_tail_backfills_total"), "delivered by the tail check the sync request started");
      }
    }
  }

  /**
   * After a split the tail checks may find lost tails on many channels of one loop at once: their backfills are
   * admitted like subscribe reads (a few at the store at a time, the rest waiting in the gateway), and every one is
   * delivered, in order, once — here more than twice the per-loop bound of store reads in flight.
   */
  @Test
  void manyLostTailsAfterASplitAreAllBackfilled() {
    try (TestServer own = TestServer.start(new JsonObject().put("gateway", new JsonObject().put("tailCheckMs", 3_600_000)))) {
      String token = own.token("resync-many", TestServer.allGrants());
      Fanout fanout = Fanout.of(own.sb.vertx());
      int channels = 2 * io.switchboard.common.Defaults.STORE_READS_IN_FLIGHT + 1;
      try (WsClient sub = own.connect(token); WsClient pub = own.connect(token)) {
        List<String> names = java.util.stream.IntStream.range(0, channels).mapToObj(i -> "task:many-" + i).toList();
        for (String ch : names) fanout.addInterest(loseTheLastTwo(own, sub, pub, ch), ch);
        own.sb.vertx().eventBus().publish(Addresses.GATEWAY_INTEREST_SYNC, new JsonObject().put("tails", true));
        for (String ch : names) assertEquals(List.of(2, 3), dataOf(sub, ch, 2), ch);
        assertEquals((double) channels, own.metric("switchboard_tail_backfills_total"), "one tail backfill per channel");
        // nothing twice: the next event of each is its next publication
        for (String ch : names) pub.result("publish", new JsonObject().put("channel", ch).put("event", "n").put("data", 4));
        for (String ch : names) assertEquals(List.of(4), dataOf(sub, ch, 1), ch);
      }
    }
  }

  @Test
  void reorderedBusMessagesAreDeliveredInOffsetOrderOnce() {
    String token = s.token("reorder", TestServer.allGrants());
    Fanout fanout = Fanout.of(s.sb.vertx());
    try (WsClient sub = s.connect(token); WsClient pub = s.connect(token)) {
      sub.subscribe("task:reorder");
      pub.result("publish", new JsonObject().put("channel", "task:reorder").put("event", "n").put("data", 1));
      assertEquals(List.of(1), dataOf(sub, "task:reorder", 1));
      String node = fanout.nodesOf("task:reorder").iterator().next();
      fanout.removeInterest(node, "task:reorder");
      pub.result("publish", new JsonObject().put("channel", "task:reorder").put("event", "n").put("data", 2));
      pub.result("publish", new JsonObject().put("channel", "task:reorder").put("event", "n").put("data", 3));
      fanout.addInterest(node, "task:reorder");
      // the bus now delivers 3 before 2
      var history = pub.result("history", new JsonObject().put("channel", "task:reorder")).getJsonArray("publications");
      Publication p2 = Publication.fromJson(history.getJsonObject(1));
      Publication p3 = Publication.fromJson(history.getJsonObject(2));
      s.sb.vertx().eventBus().send(Addresses.gatewayNode(node), p3);
      s.sb.vertx().eventBus().send(Addresses.gatewayNode(node), p2);
      assertEquals(List.of(2, 3), dataOf(sub, "task:reorder", 2));
      pub.result("publish", new JsonObject().put("channel", "task:reorder").put("event", "n").put("data", 4));
      assertEquals(List.of(4), dataOf(sub, "task:reorder", 1));
      Await.until("no duplicates", () -> sub.seen(f -> "task:reorder".equals(f.getString("channel")) && "n".equals(f.getString("event"))).size() == 4);
    }
  }
}
