package io.switchboard.presence;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Presence in this JVM's memory (engine {@code memory}). One instance per Vertx, shared by every presence verticle
 * instance, because gateways {@code send} to whichever instance the bus picks: all must see the same members.
 *
 * <p>Every operation runs under the store's lock and completes before it returns, so a sweep claims a client
 * atomically, and operations are applied in the order callers make them. The lock is held for map updates only
 * (microseconds), never across I/O.
 */
public final class MemoryPresenceStore implements PresenceStore, Shareable {
  private static final String SHARED_MAP = "switchboard.presence";

  /** channel → client → member, in join order. A channel with no members is dropped. */
  private final Map<String, LinkedHashMap<String, PresenceMember>> channels = new HashMap<>();
  /** client → its deadline and channels. A client with no channels is dropped. */
  private final Map<String, Tracked> clients = new HashMap<>();
  /** channel → subject → clients of that subject in the channel (for per-user first/last announcements). */
  private final Map<String, Map<String, Integer>> subjects = new HashMap<>();

  private static final class Tracked {
    long deadline;
    final Set<String> channels = new LinkedHashSet<>();
  }

  /** The store of this Vertx instance, created on first use. */
  public static MemoryPresenceStore shared(Vertx vertx) {
    LocalMap<String, MemoryPresenceStore> map = vertx.sharedData().getLocalMap(SHARED_MAP);
    return map.computeIfAbsent("memory", k -> new MemoryPresenceStore());
  }

  @Override
  public synchronized Future<List<PresenceMember>> join(PresenceJoin join, long deadline) {
    Tracked tracked = clients.computeIfAbsent(join.client(), c -> new Tracked());
    tracked.deadline = deadline;
    List<PresenceMember> added = new ArrayList<>();
    for (String channel : join.channels()) {
      Map<String, PresenceMember> members = channels.computeIfAbsent(channel, ch -> new LinkedHashMap<>());
      if (!members.containsKey(join.client())) {
        PresenceMember member = join.memberOf(channel);
        members.put(join.client(), member);
        Map<String, Integer> counts = subjects.computeIfAbsent(channel, ch -> new HashMap<>());
        int n = counts.merge(member.subject(), 1, Integer::sum);
        added.add(member.withCounts(n, counts.size()));
      }
      tracked.channels.add(channel);
    }
    return Future.succeededFuture(added);
  }

  @Override
  public synchronized Future<List<PresenceMember>> leave(String client, List<String> leaving) {
    Tracked tracked = clients.get(client);
    if (leaving == null) leaving = tracked == null ? List.of() : new ArrayList<>(tracked.channels);
    List<PresenceMember> removed = new ArrayList<>();
    for (String channel : leaving) {
      PresenceMember member = removeMember(channel, client);
      if (member != null) removed.add(member);
      if (tracked != null) tracked.channels.remove(channel);
    }
    if (tracked != null && tracked.channels.isEmpty()) clients.remove(client);
    return Future.succeededFuture(removed);
  }

  @Override
  public synchronized Future<Void> refresh(String node, List<String> refreshed, long deadline) {
    for (String client : refreshed) {
      Tracked tracked = clients.get(client);
      if (tracked != null) tracked.deadline = deadline;
    }
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<List<PresenceMember>> members(String channel) {
    Map<String, PresenceMember> members = channels.get(channel);
    List<PresenceMember> list = members == null ? new ArrayList<>() : new ArrayList<>(members.values());
    list.sort(Comparator.comparingLong(PresenceMember::joinedAt));
    return Future.succeededFuture(list);
  }

  @Override
  public synchronized Future<PresenceMember> setState(String channel, String client, JsonObject state) {
    Map<String, PresenceMember> members = channels.get(channel);
    PresenceMember member = members == null ? null : members.get(client);
    if (member == null) return Future.failedFuture(notMember(channel, client));
    PresenceMember updated = member.withState(state.copy());
    members.put(client, updated);
    return Future.succeededFuture(updated);
  }

  @Override
  public synchronized Future<List<PresenceMember>> sweep(long now) {
    List<PresenceMember> expired = new ArrayList<>();
    for (Iterator<Map.Entry<String, Tracked>> it = clients.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Tracked> e = it.next();
      if (e.getValue().deadline > now) continue;
      it.remove();
      for (String channel : e.getValue().channels) {
        PresenceMember member = removeMember(channel, e.getKey());
        if (member != null) expired.add(member);
      }
    }
    return Future.succeededFuture(expired);
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture(); // shared by every verticle instance of this Vertx: lives as long as it
  }

  private PresenceMember removeMember(String channel, String client) {
    Map<String, PresenceMember> members = channels.get(channel);
    if (members == null) return null;
    PresenceMember member = members.remove(client);
    if (members.isEmpty()) channels.remove(channel);
    if (member == null) return null;
    Map<String, Integer> counts = subjects.get(channel);
    Integer left = counts == null ? null : counts.computeIfPresent(member.subject(), (k, n) -> n <= 1 ? null : n - 1);
    int users = counts == null ? 0 : counts.size();
    if (counts != null && counts.isEmpty()) subjects.remove(channel);
    return member.withCounts(left == null ? 0 : left, users);
  }

  static ServiceError notMember(String channel, String client) {
    return new ServiceError(ErrorCode.NOT_SUBSCRIBED,
        "client " + client + " is not a member of channel " + channel + " (presence.setState needs a subscription)");
  }
}
