package io.switchboard.store;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Redis engine's appends, batched: appends that arrive while earlier script calls are in flight wait in a queue
 * and go out together as ONE append.lua call (or one call per channel, {@link Tuning#callPerChannel}), so Redis runs
 * one script — and reads and writes each channel's state once — for many publications.
 *
 * <p>Self-clocking, no timer: while fewer than {@link Tuning#maxInFlight} batches are in flight an append goes out at
 * once (an idle store adds no latency); under load the queue fills while Redis works and the next batch takes up to
 * {@link Tuning#maxBatch} appends / {@link Tuning#maxBatchBytes} of publications of it.
 *
 * <p>Invariants:
 * <ul>
 *   <li>Order: the queue is FIFO and only the link's thread (the "pump", {@link RedisLink#onContext}) takes batches
 *       and writes them to the one connection of {@link RedisLink}, so batches reach Redis in queue order; within a call, the publications of a
 *       channel keep their order; offsets are handed out when the script runs, replies arrive in order, and each batch
 *       completes its appends in order — so appends complete in offset order per channel, as with one call each.
 *   <li>Every append is answered exactly once, with its own outcome from the script (stored, duplicate, rate limited,
 *       or its own error); an append is reported stored only when the script said it stored it. When the call fails
 *       as a whole (Redis down, connection lost) every append of the batch fails with {@code unavailable}; the script
 *       runs atomically, so either all of a call ran or none of it did, except when the connection breaks after Redis
 *       ran the call: then the appends are reported failed although stored (the idempotency key exists for that).
 *   <li>At most {@link Tuning#maxQueued} appends wait; past that an append fails at once with {@code unavailable}
 *       (Redis is not keeping up or hangs) instead of the queue growing without bound.
 * </ul>
 */
final class RedisAppends {
  private static final System.Logger LOG = System.getLogger(RedisAppends.class.getName());

  /**
   * How appends are grouped.
   *
   * @param maxInFlight batches sent and not yet answered; 2 lets the next batch travel while Redis runs one
   * @param maxBatch most appends in one batch (one batch runs in Redis for about maxBatch × 10–20 µs); 64 cost Redis
   *     less CPU per append than 256 or 1,024 in RedisBatchBench (smaller scripts' tables and arguments stay in cache)
   * @param maxBatchBytes most bytes of publication JSON in one batch (at least one append)
   * @param callPerChannel one script call per channel of a batch (pipelined) instead of one call for all channels:
   *     required by Redis Cluster, where one script may only touch keys of one slot
   * @param maxQueued most appends waiting for a batch
   */
  record Tuning(int maxInFlight, int maxBatch, int maxBatchBytes, boolean callPerChannel, int maxQueued) {
    static final Tuning DEFAULT = new Tuning(2, 64, 1 << 20, false, 65_536);

    Tuning withCallPerChannel(boolean perChannel) {
      return new Tuning(maxInFlight, maxBatch, maxBatchBytes, perChannel, maxQueued);
    }
  }

  /**
   * One append waiting for its answer.
   *
   * @param stamped the publication with its id and timestamp (offset and epoch come from the script)
   * @param idempotencyKey the Redis key of its idempotency key, or null
   * @param json {@code stamped} as stored (without offset and epoch)
   */
  record Pending(Publication stamped, NamespaceOptions options, String idempotencyKey, Buffer json,
      Promise<AppendResult> promise) {}

  /** Consecutive appends of one channel with the same options, in order. */
  private static final class Group {
    final String channel;
    final NamespaceOptions options;
    final List<Pending> entries = new ArrayList<>();
    int keyed;

    Group(String channel, NamespaceOptions options) {
      this.channel = channel;
      this.options = options;
    }
  }

  /** One script call: its groups, and the clock and fresh epoch it runs with (fixed, for a NOSCRIPT retry). */
  private record Call(List<Group> groups, long now, String freshEpoch, int size) {}

  private final RedisLink link;
  private final StoreSettings settings;
  private final Tuning tuning;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>(); // guarded by this
  private int inFlight; // guarded by this
  private boolean pumping; // guarded by this
  private final AtomicInteger calls = new AtomicInteger();

  RedisAppends(RedisLink link, StoreSettings settings, Tuning tuning) {
    this.link = link;
    this.settings = settings;
    this.tuning = tuning;
  }

  Future<AppendResult> append(Pending p) {
    synchronized (this) {
      if (queue.size() >= tuning.maxQueued) {
        return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "message store overloaded: "
            + queue.size() + " appends already wait for Redis (at most " + tuning.maxQueued + ")"));
      }
      queue.add(p);
    }
    if (!link.onContext(this::pump)) failQueued(); // Vert.x closed: nothing will pump again
    return p.promise().future();
  }

  /** Fails every waiting append: the store can no longer send them. */
  private void failQueued() {
    List<Pending> left;
    synchronized (this) {
      left = new ArrayList<>(queue);
      queue.clear();
    }
    for (Pending p : left) answer(p, Future.failedFuture(RedisLink.closedError()));
  }

  /** Script calls made so far (tests and benchmarks: how well appends were batched). */
  int calls() {
    return calls.get();
  }

  /**
   * Sends batches while fewer than maxInFlight are out; runs on the link's thread only. It sends outside the lock (a
   * call may fail synchronously and complete appends, whose callbacks may append again: they find the pump busy and
   * leave their append to it; the pump re-checks the queue under the lock before it stops, so none is stranded).
   */
  private void pump() {
    synchronized (this) {
      if (pumping) return;
      pumping = true;
    }
    while (true) {
      List<Pending> batch;
      synchronized (this) {
        if (inFlight >= tuning.maxInFlight || queue.isEmpty()) {
          pumping = false;
          return;
        }
        batch = take();
        inFlight++;
      }
      send(batch);
    }
  }

  /** The next batch off the queue: at least one append, then up to maxBatch / maxBatchBytes. */
  private List<Pending> take() {
    List<Pending> batch = new ArrayList<>(Math.min(queue.size(), tuning.maxBatch));
    long bytes = 0;
    while (!queue.isEmpty() && batch.size() < tuning.maxBatch) {
      Pending next = queue.peek();
      if (!batch.isEmpty() && bytes + next.json().length() > tuning.maxBatchBytes) break;
      bytes += next.json().length();
      batch.add(queue.poll());
    }
    return batch;
  }

  private void send(List<Pending> batch) {
    List<Call> out;
    try {
      out = calls(batch);
    } catch (RuntimeException e) {
      for (Pending p : batch) answer(p, Future.failedFuture(RedisLink.unavailable(e)));
      done();
      return;
    }
    AtomicInteger open = new AtomicInteger(out.size());
    for (Call call : out) {
      calls.incrementAndGet();
      Future<Response> reply;
      try {
        reply = link.eval(RedisScript.APPEND, r -> arguments(call, r));
      } catch (RuntimeException e) {
        reply = Future.failedFuture(e); // every call completes, so the batch always leaves the in-flight count
      }
      reply.onComplete(ar -> {
        complete(call, ar);
        if (open.decrementAndGet() == 0) done();
      });
    }
  }

  private void done() {
    synchronized (this) {
      inFlight--;
    }
    if (!link.onContext(this::pump)) failQueued();
  }

  /** Groups a batch by channel (keeping each channel's order) into one call, or one call per channel. */
  private List<Call> calls(List<Pending> batch) {
    List<Group> groups = new ArrayList<>();
    Map<String, Group> latest = new HashMap<>();
    for (Pending p : batch) {
      String ch = p.stamped().channel();
      Group g = latest.get(ch);
      // options changed within the batch: a later group of the same channel (the script carries its state over)
      if (g == null || !g.options.equals(p.options())) {
        g = new Group(ch, p.options());
        groups.add(g);
        latest.put(ch, g);
      }
      g.entries.add(p);
      if (p.idempotencyKey() != null) g.keyed++;
    }
    long now = System.currentTimeMillis();
    String epoch = Ids.hex(8);
    if (!tuning.callPerChannel) return List.of(new Call(groups, now, epoch, batch.size()));
    List<Call> out = new ArrayList<>(groups.size());
    for (Group g : groups) out.add(new Call(List.of(g), now, epoch, g.entries.size()));
    return out;
  }

  /** numkeys, KEYS and ARGV of append.lua for one call (see the script's header). */
  private void arguments(Call call, Request r) {
    int keys = 0;
    for (Group g : call.groups) keys += 4 + g.keyed;
    r.arg(keys);
    for (Group g : call.groups) {
      r.arg(RedisKeys.meta(g.channel)).arg(RedisKeys.history(g.channel)).arg(RedisKeys.ackable(g.channel))
          .arg(RedisKeys.rate(g.channel));
      for (Pending p : g.entries) if (p.idempotencyKey() != null) r.arg(p.idempotencyKey());
    }
    r.arg(call.now).arg(settings.idempotencyWindowMs()).arg(call.freshEpoch);
    for (Group g : call.groups) {
      NamespaceOptions o = g.options;
      r.arg(g.entries.size()).arg(o.historySize()).arg(o.historyTtlSeconds() * 1000L).arg(o.publishRatePerSecond());
      for (Pending p : g.entries) {
        Publication s = p.stamped();
        int flags = (s.requiresAck() ? 1 : 0) + (p.idempotencyKey() != null ? 2 : 0);
        r.arg(flags).arg(s.id()).arg(s.timestamp()).arg(s.ttl() > 0 ? s.timestamp() + s.ttl() * 1000L : 0)
            .arg(p.json());
      }
    }
  }

  /** Answers every append of a call from its reply: 3 values per append, in argument order. */
  private void complete(Call call, AsyncResult<Response> ar) {
    int i = 0;
    for (Group g : call.groups) {
      for (Pending p : g.entries) {
        Future<AppendResult> outcome;
        if (ar.failed()) {
          outcome = Future.failedFuture(RedisLink.unavailable(ar.cause()));
        } else {
          try {
            outcome = Future.succeededFuture(outcome(p, ar.result(), i));
          } catch (RuntimeException e) {
            outcome = Future.failedFuture(e instanceof ServiceError ? e : RedisLink.unavailable(e));
          }
        }
        answer(p, outcome);
        i += 3;
      }
    }
  }

  private static AppendResult outcome(Pending p, Response r, int i) {
    if (r == null || r.size() < i + 3) {
      throw new IllegalStateException("append.lua answered " + (r == null ? 0 : r.size()) + " values, expected "
          + (i + 3) + " or more");
    }
    int status = r.get(i).toInteger();
    Publication s = p.stamped();
    switch (status) {
      case 0:
        return new AppendResult(s.withPosition(s.id(), r.get(i + 1).toLong(), r.get(i + 2).toString(), s.timestamp()),
            false);
      case 1:
        String[] first = r.get(i + 1).toString().split("\\|");
        return new AppendResult(s.withPosition(first[0], Long.parseLong(first[1]), first[2], Long.parseLong(first[3])),
            true);
      case 2:
        throw StoreErrors.rateLimited(s.channel(), p.options().publishRatePerSecond(), r.get(i + 1).toLong());
      default:
        throw new ServiceError(ErrorCode.UNAVAILABLE, "message store could not store the publication (redis): "
            + r.get(i + 1));
    }
  }

  /** Completes one append; a caller's callback that throws must not keep the rest of the batch unanswered. */
  private static void answer(Pending p, Future<AppendResult> outcome) {
    try {
      if (outcome.succeeded()) p.promise().tryComplete(outcome.result());
      else p.promise().tryFail(outcome.cause());
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "an append's completion threw: " + e);
    }
  }
}
