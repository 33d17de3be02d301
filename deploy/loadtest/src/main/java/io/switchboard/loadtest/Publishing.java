package io.switchboard.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Open-loop publishing at a fixed rate: every millisecond each publisher connection sends what its share of the
 * schedule says is due, whether or not earlier publications were delivered (a slow server shows as latency, not as
 * a lower offered rate). A send the socket cannot take (write queue full, or too many unanswered publishes) is
 * skipped and counted, never queued in the generator.
 *
 * <p>Publisher j owns the channels whose index is j modulo the publisher count, so each channel's sequence
 * ({@code _s}) is written by one connection and arrives in order.
 */
final class Publishing {
  static final int MAX_IN_FLIGHT = 20_000;

  private final Worker worker;
  private final Vertx vertx;
  private final List<Conn> conns;
  private final String[] channels;
  private final AtomicLongArray seq;
  private final double ratePerConn;
  private final int payload;
  private final long scheduleNanos;
  /** The schedule's end, from the same origin as its start (set by {@link #start}). */
  private volatile long stopAtNanos;
  private final List<Long> timers = new ArrayList<>();
  private volatile boolean stopped;

  Publishing(Worker worker, Vertx vertx, List<Conn> conns, JsonObject cmd) {
    if (conns.isEmpty()) throw new IllegalStateException("no publisher connections are open");
    this.worker = worker;
    this.vertx = vertx;
    JsonArray ch = cmd.getJsonArray("channels");
    this.channels = new String[ch.size()];
    for (int i = 0; i < channels.length; i++) channels[i] = ch.getString(i);
    // never more publishers than channels: a channel has exactly one publisher
    this.conns = conns.subList(0, Math.min(conns.size(), channels.length));
    this.seq = new AtomicLongArray(channels.length);
    JsonObject start = cmd.getJsonObject("startSeq", new JsonObject());
    for (int i = 0; i < channels.length; i++) seq.set(i, start.getLong(channels[i], 0L));
    this.ratePerConn = cmd.getDouble("rate") / this.conns.size();
    this.payload = cmd.getInteger("payload");
    this.scheduleNanos = (long) (cmd.getDouble("seconds", 3600.0) * 1e9);
  }

  void start() {
    long startNanos = System.nanoTime();
    stopAtNanos = startNanos + scheduleNanos;
    for (int j = 0; j < conns.size(); j++) {
      Conn c = conns.get(j);
      int owner = j;
      c.context.runOnContext(v -> {
        long[] sent = {0};
        int[] next = {owner};
        long id = vertx.setPeriodic(1, t -> tick(c, startNanos, sent, next));
        synchronized (timers) {
          timers.add(id);
        }
      });
    }
  }

  private void tick(Conn c, long startNanos, long[] sent, int[] next) {
    if (stopped) return;
    // the first tick at or past the end settles the schedule up to its end: what fell due before it (the last
    // millisecond, or a stall just before the end) is sent or counted as skipped, never silently dropped, so that
    // sent + skipped = rate × seconds; later ticks find nothing due
    long now = Math.min(System.nanoTime(), stopAtNanos);
    long due = (long) ((now - startNanos) * ratePerConn / 1e9) - sent[0];
    // after a stall, send at most one second's worth at once; the rest is skipped (counted)
    long cap = Math.max(1, (long) ratePerConn);
    if (due > cap) {
      worker.stats.skipped.add(due - cap);
      sent[0] += due - cap;
      due = cap;
    }
    for (long k = 0; k < due; k++) {
      sent[0]++;
      if (!c.writable() || c.session.inFlight() >= MAX_IN_FLIGHT) {
        worker.stats.skipped.increment();
        continue;
      }
      int ci = next[0];
      next[0] = ci + conns.size() >= channels.length ? ci % conns.size() : ci + conns.size();
      long s = seq.incrementAndGet(ci);
      long micros = Clock.epochMicros();
      c.session.publish(channels[ci], Frames.payload(micros, s, payload), micros);
      worker.stats.published.increment();
    }
  }

  void stop() {
    stopped = true;
    synchronized (timers) {
      for (long id : timers) vertx.cancelTimer(id);
    }
  }

  int inFlight() {
    int n = 0;
    for (Conn c : conns) n += c.session == null ? 0 : c.session.inFlight();
    return n;
  }

  /** The last sequence sent on each channel (protocols without stored offsets). */
  JsonObject lastSequences() {
    JsonObject o = new JsonObject();
    for (int i = 0; i < channels.length; i++) o.put(channels[i], seq.get(i));
    return o;
  }
}
