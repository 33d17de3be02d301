package io.switchboard.gateway.core;

import io.switchboard.common.Addresses;
import io.switchboard.common.Defaults;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The position and recovery reads of one event loop's subscribes, coalesced per channel and admitted at a bounded
 * rate, so a reconnect storm costs the store about one read per channel and round trip instead of one per client.
 *
 * <p>Coalescing: the subscriptions of one channel that wait together share ONE read, from the lowest offset any of
 * them recovers from; each gets the slice after its own offset. A subscription may only share a read sent AFTER it
 * joined the hub (the ordering invariant of {@link Subscriptions}: what is published after the read's snapshot is
 * held by the subscription, so nothing falls between them). So a channel has at most one read in flight per loop,
 * and whoever arrives meanwhile waits for the next one.
 *
 * <p>The answers are exactly those one read per subscription would give, because a channel's history is contiguous
 * and trimmed oldest first: when the store still holds the offset after the lowest position of an epoch, it holds
 * the offset after every higher one up to the head. Per subscription: another epoch than the channel's, or a
 * position past the head, is {@code recovered:false}; the lowest position not recovered gives no answer for the
 * higher ones, which wait for the next read (as do positions in an epoch other than the one read).
 *
 * <p>Admission: at most {@link Defaults#STORE_READS_IN_FLIGHT} requests per loop are at the store at once, each for
 * at most {@link Defaults#STORE_READ_CHANNELS} channels; the rest wait here, where waiting is not failing (the bus
 * timeout applies to a request only once it is sent). The store then sees a rate it can answer.
 */
final class StoreReads {
  /** What one subscription learns: an error, or the position and (when it recovers) the outcome and publications. */
  record Answer(ServiceError error, long offset, String epoch, Boolean recovered, List<Publication> publications) {
    static Answer failed(ServiceError e) {
      return new Answer(e, 0, null, null, List.of());
    }
  }

  /** One subscription waiting for a read: {@code offset} null when it only needs the position. */
  private record Waiter(Long offset, String epoch, BooleanSupplier gone, Promise<Answer> answer) {}

  /** The highest offset the store accepts (2^53-1: exact in every JSON number). */
  static final long MAX_OFFSET = (1L << 53) - 1;

  private final GatewayLoop loop;
  private final int maxInFlight;
  private final int maxChannels;
  /** Channels with waiters and no read of theirs sent yet, in the order they started waiting. */
  private final LinkedHashMap<String, List<Waiter>> queued = new LinkedHashMap<>();
  /** Channels with a read in flight: their new waiters wait for the next read. */
  private final Set<String> reading = new HashSet<>();
  /** Other admitted reads ({@link #admitted}), in arrival order. */
  private final java.util.ArrayDeque<Runnable> calls = new java.util.ArrayDeque<>();
  private int inFlight;
  private boolean callFirst;

  StoreReads(GatewayLoop loop) {
    this(loop, Defaults.STORE_READS_IN_FLIGHT, Defaults.STORE_READ_CHANNELS);
  }

  StoreReads(GatewayLoop loop, int maxInFlight, int maxChannels) {
    this.loop = loop;
    this.maxInFlight = maxInFlight;
    this.maxChannels = maxChannels;
  }

  /**
   * The position of {@code channel} (bus/storage name) and, with a {@code recoverOffset}, what was stored after it
   * in {@code recoverEpoch}, complete up to the head (in offset order, expired publications left out). Read after
   * this call; never fails (a store failure is the answer's error). {@code gone}: true once nobody needs the answer
   * (the subscription was dropped), so a read not yet sent is not sent for it. Queued only: call {@link #send} once
   * every channel of the batch is queued, so one subscribe's channels leave in one request when the store is idle.
   */
  Future<Answer> read(String channel, Long recoverOffset, String recoverEpoch, BooleanSupplier gone) {
    // a position the store would refuse never joins a shared read (it would fail the read for everyone)
    if (recoverOffset != null && (recoverOffset < 0 || recoverOffset > MAX_OFFSET)) {
      return Future.succeededFuture(Answer.failed(ServiceError.badRequest(
          "recover.offset must be between 0 and " + MAX_OFFSET + ", got " + recoverOffset)));
    }
    if (recoverOffset != null && recoverEpoch == null) {
      return Future.succeededFuture(Answer.failed(ServiceError.badRequest("recover.epoch is required")));
    }
    Promise<Answer> p = Promise.promise();
    queued.computeIfAbsent(channel, c -> new ArrayList<>(4)).add(new Waiter(recoverOffset, recoverEpoch, gone, p));
    return p.future();
  }

  /** Sends what was queued by {@link #read}, as far as the admission bound allows (the rest follows as reads return). */
  void send() {
    dispatch();
  }

  /** Sends reads while requests may be in flight and channels wait whose previous read has come back. */
  private void dispatch() {
    while (inFlight < maxInFlight) {
      // turns between the two queues, so neither starves the other
      boolean sent = callFirst && runCall() || sendPositions() || !callFirst && runCall();
      callFirst = !callFirst;
      if (!sent) return;
    }
  }

  /** Runs the longest-waiting other read, if any. */
  private boolean runCall() {
    Runnable call = calls.poll();
    if (call == null) return false;
    call.run();
    return true;
  }

  /**
   * Another store read of a subscribe that cannot be coalesced (a lazy personal position's history read) under the
   * same admission: it is sent once fewer than the bound are in flight, and waits here until then.
   */
  <T> Future<T> admitted(java.util.function.Supplier<Future<T>> read) {
    Promise<T> p = Promise.promise();
    calls.add(() -> {
      inFlight++;
      Future<T> f;
      try {
        f = read.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        inFlight--;
        p.handle(ar);
        dispatch();
      });
    });
    dispatch();
    return p.future();
  }

  /** Sends one request for channels waiting whose previous read has come back; false when there is none. */
  private boolean sendPositions() {
    Map<String, List<Waiter>> batch = new LinkedHashMap<>();
    JsonArray request = new JsonArray();
    Map<String, JsonObject> sent = new HashMap<>();
    for (Iterator<Map.Entry<String, List<Waiter>>> it = queued.entrySet().iterator(); it.hasNext() && batch.size() < maxChannels; ) {
      Map.Entry<String, List<Waiter>> e = it.next();
      if (reading.contains(e.getKey())) continue;
      it.remove();
      List<Waiter> waiters = new ArrayList<>(e.getValue().size());
      for (Waiter w : e.getValue()) {
        if (w.gone.getAsBoolean()) {
          w.answer.complete(Answer.failed(new ServiceError(ErrorCode.NOT_SUBSCRIBED, "unsubscribed before the subscribe completed")));
        } else {
          waiters.add(w);
        }
      }
      if (waiters.isEmpty()) continue;
      JsonObject q = query(e.getKey(), waiters);
      batch.put(e.getKey(), waiters);
      sent.put(e.getKey(), q);
      request.add(q);
    }
    if (batch.isEmpty()) return false; // none waits, or every waiting channel has a read in flight
    inFlight++;
    reading.addAll(batch.keySet());
    loop.metrics.storeReads(batch.size(), batch.values().stream().mapToInt(List::size).sum());
    List<String> order = new ArrayList<>(batch.keySet());
    loop.<JsonObject>request(Addresses.STORE_POSITION, new JsonObject().put("channels", request), loop.timeout())
        .compose(m -> {
          // one entry per channel in request order; entries the store cut by bytes are read to the end, so
          // recovery stays whole and in order
          JsonArray entries = m.body().getJsonArray("channels", new JsonArray());
          List<Future<JsonObject>> whole = new ArrayList<>(entries.size());
          for (Object o : entries) whole.add(loop.complete((JsonObject) o));
          return Future.join(whole).transform(v -> Future.succeededFuture(whole));
        })
        .onComplete(ar -> {
          inFlight--;
          reading.removeAll(batch.keySet());
          for (int i = 0; i < order.size(); i++) {
            String channel = order.get(i);
            ServiceError err = null;
            JsonObject entry = null;
            if (ar.failed()) {
              err = ServiceError.from(ar.cause(), "message store");
            } else if (i >= ar.result().size()) {
              err = new ServiceError(ErrorCode.INTERNAL, "store gave no position for " + channel);
            } else if (ar.result().get(i).failed()) {
              err = ServiceError.from(ar.result().get(i).cause(), "message store");
            } else {
              entry = ar.result().get(i).result();
              if (!channel.equals(entry.getString("channel"))) {
                err = new ServiceError(ErrorCode.INTERNAL, "store answered " + entry.getString("channel") + " for " + channel);
              } else if (entry.containsKey("error")) {
                err = channelError(entry.getJsonObject("error"));
              }
            }
            try {
              answer(channel, batch.get(channel), sent.get(channel), entry, err);
            } catch (RuntimeException e) {
              // never leave a subscribe unanswered (a waiter already answered ignores this)
              ServiceError internal = new ServiceError(ErrorCode.INTERNAL, "could not read the store's answer for " + channel);
              for (Waiter w : batch.get(channel)) w.answer.tryComplete(Answer.failed(internal));
            }
          }
          dispatch();
        });
    return true;
  }

  /**
   * The read for a channel's waiters: from the lowest position of the epoch most of them recover in (the others
   * either learn it is not the channel's epoch, or wait for the next read when it is).
   */
  private static JsonObject query(String channel, List<Waiter> waiters) {
    JsonObject q = new JsonObject().put("channel", channel);
    Map<String, Integer> epochs = new HashMap<>();
    String best = null;
    for (Waiter w : waiters) {
      if (w.offset == null || w.epoch == null) continue;
      int n = epochs.merge(w.epoch, 1, Integer::sum);
      if (best == null || n > epochs.get(best)) best = w.epoch;
    }
    if (best == null) return q;
    long lowest = Long.MAX_VALUE;
    for (Waiter w : waiters) {
      if (w.offset != null && best.equals(w.epoch)) lowest = Math.min(lowest, w.offset);
    }
    return q.put("recover", new JsonObject().put("offset", lowest).put("epoch", best));
  }

  /** Answers each waiter from the channel's read; those it cannot answer wait for the next read. */
  private void answer(String channel, List<Waiter> waiters, JsonObject query, JsonObject entry, ServiceError err) {
    if (err != null) {
      for (Waiter w : waiters) w.answer.complete(Answer.failed(err));
      return;
    }
    long offset = entry.getLong("offset", 0L);
    String epoch = entry.getString("epoch");
    JsonObject asked = query.getJsonObject("recover");
    String readEpoch = asked == null ? null : asked.getString("epoch");
    long from = asked == null ? 0 : asked.getLong("offset");
    boolean recovered = asked != null && entry.getBoolean("recovered", false);
    // decoded once for every waiter: publications are immutable and shared
    List<Publication> pubs = List.of();
    if (recovered) {
      JsonArray list = entry.getJsonArray("publications", new JsonArray());
      pubs = new ArrayList<>(list.size());
      for (Object o : list) pubs.add(Publication.fromJson((JsonObject) o));
    }
    List<Waiter> again = null;
    for (Waiter w : waiters) {
      if (w.offset == null) {
        w.answer.complete(new Answer(null, offset, epoch, null, List.of()));
      } else if (w.epoch == null || !w.epoch.equals(epoch) || w.offset < 0 || w.offset > offset) {
        // the same rule as the store's: another epoch than the channel's, or a position it never reached
        w.answer.complete(new Answer(null, offset, epoch, false, List.of()));
      } else if (recovered && w.epoch.equals(readEpoch) && w.offset >= from) {
        w.answer.complete(new Answer(null, offset, epoch, true, after(pubs, w.offset)));
      } else if (!recovered && w.epoch.equals(readEpoch) && w.offset == from) {
        w.answer.complete(new Answer(null, offset, epoch, false, List.of()));
      } else {
        // in the channel's epoch, but this read could not tell (it read another epoch, or a lower position was lost)
        if (again == null) again = new ArrayList<>();
        again.add(w);
      }
    }
    if (again != null) {
      List<Waiter> next = queued.remove(channel);
      if (next != null) again.addAll(next);
      // first in line: these have waited longest
      LinkedHashMap<String, List<Waiter>> rest = new LinkedHashMap<>(queued);
      queued.clear();
      queued.put(channel, again);
      queued.putAll(rest);
    }
  }

  /** The publications after {@code offset} (they are in offset order). */
  private static List<Publication> after(List<Publication> pubs, long offset) {
    int i = 0;
    while (i < pubs.size() && pubs.get(i).offset() <= offset) i++;
    return i == 0 ? pubs : pubs.subList(i, pubs.size());
  }

  static ServiceError channelError(JsonObject e) {
    ErrorCode code = ErrorCode.fromWire(e.getString("code"));
    return new ServiceError(code == null ? ErrorCode.INTERNAL : code, e.getString("message", "store error"));
  }
}
