package io.switchboard.presence;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@link OccupancyStore} in this JVM's memory (engine {@code memory}), one per Vertx; every operation under the lock. */
final class MemoryOccupancyStore implements OccupancyStore, Shareable {
  /** A node's last change of a channel: its seq and whether it occupies the channel. */
  private record Mark(long seq, boolean present) {}

  /** channel → node → mark. A vacated channel keeps its marks (against late changes) for a while: {@link #vacatedAt}. */
  private final Map<String, Map<String, Mark>> channels = new HashMap<>();
  /** vacated channel → when (epoch millis); dropped with its marks by a sweep after the tombstone time. */
  private final Map<String, Long> vacatedAt = new HashMap<>();
  private final Map<String, Long> deadlines = new HashMap<>();
  private final Map<String, Set<String>> nodeChannels = new HashMap<>();
  private final Set<String> swept = new HashSet<>();

  static MemoryOccupancyStore shared(Vertx vertx) {
    return vertx.sharedData().<String, MemoryOccupancyStore>getLocalMap("switchboard.webhooks")
        .computeIfAbsent("occupancy", k -> new MemoryOccupancyStore());
  }

  @Override
  public synchronized Future<Integer> change(String node, long seq, String channel, boolean occupied, long nodeDeadline) {
    deadlines.put(node, nodeDeadline);
    Map<String, Mark> nodes = channels.computeIfAbsent(channel, c -> new HashMap<>());
    Mark cur = nodes.get(node);
    if (cur != null && cur.seq() >= seq) return Future.succeededFuture(0);
    boolean was = cur != null && cur.present();
    nodes.put(node, new Mark(seq, occupied));
    if (occupied) nodeChannels.computeIfAbsent(node, n -> new HashSet<>()).add(channel);
    else {
      Set<String> own = nodeChannels.get(node);
      if (own != null) own.remove(channel);
    }
    if (was == occupied) return Future.succeededFuture(0);
    return Future.succeededFuture(transition(channel, nodes, occupied));
  }

  private int transition(String channel, Map<String, Mark> nodes, boolean occupied) {
    long present = nodes.values().stream().filter(Mark::present).count();
    if (occupied) {
      vacatedAt.remove(channel);
      return present == 1 ? OCCUPIED : 0;
    }
    if (present == 0) {
      vacatedAt.put(channel, System.currentTimeMillis());
      return VACATED;
    }
    return 0;
  }

  @Override
  public synchronized Future<Boolean> alive(String node, long deadline) {
    deadlines.put(node, deadline);
    return Future.succeededFuture(!swept.remove(node));
  }

  @Override
  public synchronized Future<List<String>> sweep(long now) {
    List<String> vacated = new ArrayList<>();
    long forgetBefore = System.currentTimeMillis() - RedisOccupancyStore.TOMBSTONE_MS;
    vacatedAt.entrySet().removeIf(e -> {
      if (e.getValue() > forgetBefore) return false;
      channels.remove(e.getKey());
      return true;
    });
    for (Iterator<Map.Entry<String, Long>> it = deadlines.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Long> e = it.next();
      if (e.getValue() > now) continue;
      it.remove();
      String node = e.getKey();
      swept.add(node);
      Set<String> own = nodeChannels.remove(node);
      if (own == null) continue;
      for (String channel : own) {
        Map<String, Mark> nodes = channels.get(channel);
        Mark m = nodes == null ? null : nodes.get(node);
        if (m == null || !m.present()) continue;
        nodes.put(node, new Mark(m.seq(), false));
        if (transition(channel, nodes, false) == VACATED) vacated.add(channel);
      }
    }
    return Future.succeededFuture(vacated);
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}
