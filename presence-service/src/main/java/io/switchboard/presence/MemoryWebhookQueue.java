package io.switchboard.presence;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The webhook queue in this JVM's memory (engine {@code memory}): one per Vertx, shared by the presence service (member
 * events) and the webhook sender. Every operation runs under the lock and completes before it returns.
 */
final class MemoryWebhookQueue implements WebhookQueue, Shareable {
  private record Due(long at, long id) implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      return at != o.at ? Long.compare(at, o.at) : Long.compare(id, o.id);
    }
  }

  private final Map<Long, JsonObject> items = new HashMap<>();
  private final Map<Long, Due> dueOf = new HashMap<>();
  private final TreeSet<Due> due = new TreeSet<>();
  private final Map<String, List<Long>> held = new HashMap<>();
  private long nextId;

  static MemoryWebhookQueue shared(Vertx vertx) {
    return vertx.sharedData().<String, MemoryWebhookQueue>getLocalMap("switchboard.webhooks")
        .computeIfAbsent("queue", k -> new MemoryWebhookQueue());
  }

  @Override
  public synchronized Future<Boolean> enqueue(List<JsonObject> list, Kind kind, String holdKey, long now, long dueAt) {
    if (kind == Kind.CANCEL && holdKey != null) {
      List<Long> ids = held.remove(holdKey);
      if (ids != null) {
        for (Long id : ids) remove(id);
        return Future.succeededFuture(false);
      }
    }
    List<Long> added = new ArrayList<>();
    for (JsonObject item : list) {
      long id = ++nextId;
      JsonObject copy = item.copy();
      if (kind == Kind.HOLD) copy.put("hold", holdKey);
      items.put(id, copy);
      schedule(id, kind == Kind.HOLD ? dueAt : now);
      added.add(id);
    }
    if (kind == Kind.HOLD && !added.isEmpty()) held.computeIfAbsent(holdKey, k -> new ArrayList<>()).addAll(added);
    return Future.succeededFuture(true);
  }

  @Override
  public synchronized Future<List<Claimed>> claim(long now, int max, long leaseUntil) {
    List<Claimed> out = new ArrayList<>();
    while (out.size() < max && !due.isEmpty() && due.first().at() <= now) {
      long id = due.first().id();
      JsonObject item = items.get(id);
      schedule(id, leaseUntil);
      String hold = item.getString("hold");
      if (hold != null) held.remove(hold);
      out.add(new Claimed(Long.toString(id), item.copy()));
    }
    return Future.succeededFuture(out);
  }

  @Override
  public synchronized Future<Void> done(List<String> ids) {
    for (String id : ids) remove(Long.parseLong(id));
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<Void> retry(List<Claimed> list, long dueAt) {
    for (Claimed c : list) {
      long id = Long.parseLong(c.id());
      if (!items.containsKey(id)) continue;
      items.put(id, c.item().copy());
      schedule(id, dueAt);
    }
    return Future.succeededFuture();
  }

  /** Items queued, claimed or not (tests, operations). */
  synchronized int size() {
    return items.size();
  }

  @Override
  public Future<Long> depth() {
    return Future.succeededFuture((long) size());
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture(); // shared by the verticles of this Vertx
  }

  private void schedule(long id, long at) {
    Due old = dueOf.remove(id);
    if (old != null) due.remove(old);
    Due d = new Due(at, id);
    dueOf.put(id, d);
    due.add(d);
  }

  private void remove(long id) {
    items.remove(id);
    Due old = dueOf.remove(id);
    if (old != null) due.remove(old);
  }
}
