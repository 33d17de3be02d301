package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every presence engine must have, asserted identically for each. Names are unique per test so the
 * engines that share storage across tests (Redis) see no interference; sweeps may claim other tests' leftovers, so
 * assertions look only at this test's clients.
 */
abstract class PresenceStoreContract {
  private final String id = Ids.hex(10);
  /** A time base for deadlines; sweeps pass explicit "now"s relative to it. */
  protected final long t0 = System.currentTimeMillis();

  protected abstract PresenceStore store();

  /** A second store over the same storage (memory: the same instance). */
  protected abstract PresenceStore sameStorage();

  protected String channel(String name) {
    return "room:" + id + "." + name;
  }

  protected String client(String name) {
    return "c-" + id + "-" + name;
  }

  protected PresenceJoin join(String client, long at, String... channels) {
    return new PresenceJoin(client, "subject-" + client, "node-1", new JsonObject().put("name", client), List.of(channels), at);
  }

  /** Only this test's members. */
  protected List<PresenceMember> mine(List<PresenceMember> members) {
    return members.stream().filter(m -> m.client().startsWith("c-" + id + "-")).toList();
  }

  private static List<String> clients(List<PresenceMember> members) {
    return members.stream().map(PresenceMember::client).toList();
  }

  /** Per-user first/last (Pusher's member_added/removed, webhooks): counted atomically with each change. */
  @Test
  void joinsAndRemovalsCountTheSubjectsClients() {
    String ch = "room:" + id + "-subj";
    long now = System.currentTimeMillis();
    PresenceJoin a = new PresenceJoin(id + "-a", "same-user", "n", new JsonObject(), List.of(ch), now);
    PresenceJoin b = new PresenceJoin(id + "-b", "same-user", "n", new JsonObject(), List.of(ch), now);
    PresenceJoin other = new PresenceJoin(id + "-o", "other-user", "n", new JsonObject(), List.of(ch), now);
    assertEquals(1, Await.result(store().join(a, now + 60_000)).get(0).subjectClients());
    assertEquals(2, Await.result(store().join(b, now + 60_000)).get(0).subjectClients());
    assertEquals(1, Await.result(store().join(other, now + 60_000)).get(0).subjectClients());
    assertEquals(List.of(), Await.result(store().join(a, now + 60_000)), "a re-join adds nobody");
    assertEquals(1, Await.result(store().leave(a.client(), List.of(ch))).get(0).subjectClients());
    assertEquals(0, Await.result(sameStorage().leave(b.client(), null)).get(0).subjectClients());
    assertEquals(0, Await.result(store().leave(other.client(), List.of(ch))).get(0).subjectClients());
    PresenceJoin again = new PresenceJoin(id + "-c", "same-user", "n", new JsonObject(), List.of(ch), now);
    assertEquals(1, Await.result(store().join(again, now + 60_000)).get(0).subjectClients(), "counting starts over");
    assertEquals(0, Await.result(store().sweep(now + 120_000)).stream()
        .filter(m -> m.client().equals(again.client())).findFirst().orElseThrow().subjectClients(), "a timeout is a removal too");
  }

  /** The distinct subjects in the channel after each change (PubNub's occupancy), counted with it. */
  @Test
  void joinsAndRemovalsCountTheChannelsUsers() {
    String ch = "room:" + id + "-users";
    long now = System.currentTimeMillis();
    PresenceJoin a = new PresenceJoin(id + "-ua", "user-1", "n", new JsonObject(), List.of(ch), now);
    PresenceJoin b = new PresenceJoin(id + "-ub", "user-1", "n", new JsonObject(), List.of(ch), now);
    PresenceJoin other = new PresenceJoin(id + "-uo", "user-2", "n", new JsonObject(), List.of(ch), now);
    assertEquals(1, Await.result(store().join(a, now + 60_000)).get(0).users());
    assertEquals(1, Await.result(store().join(b, now + 60_000)).get(0).users(), "a second client of the same subject");
    assertEquals(2, Await.result(store().join(other, now + 60_000)).get(0).users());
    assertEquals(2, Await.result(store().leave(a.client(), List.of(ch))).get(0).users(), "user-1 is still there");
    assertEquals(1, Await.result(sameStorage().leave(b.client(), null)).get(0).users());
    assertEquals(0, Await.result(store().sweep(now + 120_000)).stream()
        .filter(m -> m.client().equals(other.client())).findFirst().orElseThrow().users(), "a timeout counts too");
    assertEquals(1, Await.result(store().join(a, now + 180_000)).get(0).users(), "counting starts over");
  }

  @Test
  void joinListsMembersOldestFirstAndLeaveRemovesThem() {
    String a = channel("a"), b = channel("b");
    List<PresenceMember> added = Await.result(store().join(join(client("1"), t0, a, b), t0 + 60_000));
    assertEquals(Set.of(a, b), Set.of(added.get(0).channel(), added.get(1).channel()));
    Await.result(store().join(join(client("2"), t0 + 5, a), t0 + 60_000));

    List<PresenceMember> inA = Await.result(store().members(a));
    assertEquals(List.of(client("1"), client("2")), clients(inA));
    PresenceMember first = inA.get(0);
    assertEquals("subject-" + client("1"), first.subject());
    assertEquals(new JsonObject().put("name", client("1")), first.info());
    assertEquals(t0, first.joinedAt());
    assertEquals("node-1", first.node());
    assertEquals(List.of(client("1")), clients(Await.result(store().members(b))));

    List<PresenceMember> removed = Await.result(store().leave(client("1"), List.of(a)));
    assertEquals(1, removed.size());
    assertEquals(a, removed.get(0).channel());
    assertEquals("subject-" + client("1"), removed.get(0).subject());
    assertEquals(List.of(client("2")), clients(Await.result(store().members(a))));
    assertEquals(List.of(client("1")), clients(Await.result(store().members(b))), "other channels are kept");
  }

  @Test
  void rejoinKeepsTheMemberAndAnnouncesNothing() {
    String a = channel("a");
    Await.result(store().join(join(client("1"), t0, a), t0 + 60_000));
    Await.result(store().setState(a, client("1"), new JsonObject().put("mood", "busy")));
    List<PresenceMember> again = Await.result(store().join(join(client("1"), t0 + 50, a, channel("b")), t0 + 60_000));
    assertEquals(List.of(channel("b")), again.stream().map(PresenceMember::channel).toList(), "only the new channel");
    List<PresenceMember> inA = Await.result(store().members(a));
    assertEquals(1, inA.size());
    assertEquals(t0, inA.get(0).joinedAt());
    assertEquals(new JsonObject().put("mood", "busy"), inA.get(0).state());
  }

  @Test
  void infoAndStateSurviveUnchanged() {
    String a = channel("a");
    JsonObject info = new JsonObject()
        .put("name", "Milo ✓ héllo")
        .put("tags", new JsonArray())
        .put("nested", new JsonObject().put("big", 9007199254740993L).put("half", 1.5).put("empty", new JsonObject()))
        .putNull("nothing");
    PresenceJoin join = new PresenceJoin(client("1"), "u1", "node-1", info, List.of(a), t0);
    Await.result(store().join(join, t0 + 60_000));
    Await.result(store().join(join(client("2"), t0 + 1, a), t0 + 60_000));
    JsonObject state = new JsonObject().put("typing", true).put("list", new JsonArray().add(1).add("x")).put("n", Long.MAX_VALUE);

    PresenceMember updated = Await.result(store().setState(a, client("1"), state));
    assertEquals(state, updated.state());
    assertEquals("u1", updated.subject());

    List<PresenceMember> members = Await.result(store().members(a));
    assertEquals(info, members.get(0).info());
    assertEquals(state, members.get(0).state());
    assertEquals(new JsonObject(), members.get(1).state(), "another member's state is untouched");

    JsonObject next = new JsonObject().put("typing", false);
    Await.result(store().setState(a, client("1"), next));
    assertEquals(next, Await.result(store().members(a)).get(0).state(), "state is replaced, not merged");
    assertEquals(next, Await.result(store().leave(client("1"), List.of(a))).get(0).state(), "leave hands out the last state");
  }

  @Test
  void setStateOfANonMemberFailsNotSubscribed() {
    String a = channel("a");
    Throwable never = Await.failure(store().setState(a, client("1"), new JsonObject()));
    assertEquals(ErrorCode.NOT_SUBSCRIBED, assertInstanceOf(ServiceError.class, never).code());

    Await.result(store().join(join(client("1"), t0, a), t0 + 60_000));
    Await.result(store().leave(client("1"), List.of(a)));
    Throwable left = Await.failure(store().setState(a, client("1"), new JsonObject()));
    assertEquals(ErrorCode.NOT_SUBSCRIBED, assertInstanceOf(ServiceError.class, left).code());
    assertEquals(List.of(), Await.result(store().members(a)), "a failed setState creates no member");
  }

  @Test
  void refreshKeepsAClientAlive() {
    String a = channel("a");
    Await.result(store().join(join(client("1"), t0, a), t0 + 1_000));
    Await.result(store().join(join(client("2"), t0, a), t0 + 1_000));
    Await.result(store().refresh("node-1", List.of(client("1")), t0 + 5_000));

    List<PresenceMember> first = mine(Await.result(store().sweep(t0 + 2_000)));
    assertEquals(List.of(client("2")), clients(first), "only the client that was not refreshed times out");
    assertEquals(List.of(client("1")), clients(Await.result(store().members(a))));

    assertEquals(List.of(), mine(Await.result(store().sweep(t0 + 4_999))));
    assertEquals(List.of(client("1")), clients(mine(Await.result(store().sweep(t0 + 5_000)))), "deadline is inclusive");
  }

  @Test
  void refreshNeverBringsAMemberBack() {
    String a = channel("a");
    Await.result(store().refresh("node-1", List.of(client("ghost")), t0 + 5_000));
    Await.result(store().join(join(client("1"), t0, a), t0 + 1_000));
    Await.result(store().leave(client("1"), List.of(a)));
    Await.result(store().refresh("node-1", List.of(client("1"), client("ghost")), t0 + 5_000));
    assertEquals(List.of(), Await.result(store().members(a)));
    assertEquals(List.of(), mine(Await.result(store().sweep(t0 + 10_000))), "nothing left to time out");
  }

  @Test
  void timeoutRemovesTheClientFromEveryChannelOnce() {
    String a = channel("a"), b = channel("b");
    Await.result(store().join(join(client("1"), t0, a, b), t0 + 1_000));
    Await.result(store().setState(b, client("1"), new JsonObject().put("x", 1)));

    List<PresenceMember> expired = mine(Await.result(store().sweep(t0 + 1_000)));
    assertEquals(Set.of(a, b), new HashSet<>(expired.stream().map(PresenceMember::channel).toList()));
    PresenceMember inB = expired.stream().filter(m -> m.channel().equals(b)).findFirst().orElseThrow();
    assertEquals("subject-" + client("1"), inB.subject());
    assertEquals(new JsonObject().put("name", client("1")), inB.info());
    assertEquals(new JsonObject().put("x", 1), inB.state());

    assertEquals(List.of(), Await.result(store().members(a)));
    assertEquals(List.of(), Await.result(store().members(b)));
    assertEquals(List.of(), mine(Await.result(store().sweep(t0 + 100_000))), "a second sweep finds nothing");
    assertEquals(List.of(), Await.result(store().leave(client("1"), null)), "a leave after the timeout removes nothing");
  }

  @Test
  void leaveWithoutChannelsLeavesAll() {
    String a = channel("a"), b = channel("b");
    Await.result(store().join(join(client("1"), t0, a, b), t0 + 60_000));
    Await.result(store().join(join(client("2"), t0, a), t0 + 60_000));
    List<PresenceMember> removed = Await.result(store().leave(client("1"), null));
    assertEquals(Set.of(a, b), new HashSet<>(removed.stream().map(PresenceMember::channel).toList()));
    assertEquals(List.of(client("2")), clients(Await.result(store().members(a))));
    assertEquals(List.of(), Await.result(store().members(b)));
    assertEquals(List.of(), mine(Await.result(store().sweep(t0 + 59_000))));
  }

  @Test
  void leaveOfUnknownClientsAndChannelsIsHarmless() {
    String a = channel("a");
    assertEquals(List.of(), Await.result(store().leave(client("nobody"), List.of(a))));
    assertEquals(List.of(), Await.result(store().leave(client("nobody"), null)));
    Await.result(store().join(join(client("1"), t0, a), t0 + 60_000));
    assertEquals(List.of(), Await.result(store().leave(client("1"), List.of(channel("other")))));
    assertEquals(List.of(), Await.result(store().leave(client("1"), List.of())));
    assertEquals(List.of(client("1")), clients(Await.result(store().members(a))), "the real membership is kept");
    assertEquals(List.of(), Await.result(store().members(channel("never"))));
  }

  @Test
  void concurrentSweepsClaimEveryExpiredMemberExactlyOnce() throws Exception {
    int clients = 120;
    for (int i = 0; i < clients; i++) {
      Await.result(store().join(join(client("n" + i), t0, channel("a"), channel("b" + (i % 3))), t0 + (i % 7)));
    }
    PresenceStore[] stores = {store(), sameStorage()};
    ExecutorService pool = Executors.newFixedThreadPool(4);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<List<PresenceMember>>> sweeps = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        PresenceStore s = stores[i % 2];
        long now = t0 + 6 + i % 2;
        sweeps.add(pool.submit(() -> {
          go.await();
          return Await.result(s.sweep(now));
        }));
      }
      go.countDown();
      List<String> claimed = new ArrayList<>();
      for (Future<List<PresenceMember>> f : sweeps) {
        for (PresenceMember m : mine(f.get())) claimed.add(m.channel() + "/" + m.client());
      }
      assertEquals(2 * clients, claimed.size(), "every member once: " + claimed.size());
      assertEquals(2 * clients, new HashSet<>(claimed).size(), "no member twice");
    } finally {
      pool.shutdownNow();
    }
    assertTrue(Await.result(store().members(channel("a"))).isEmpty());
  }
}
