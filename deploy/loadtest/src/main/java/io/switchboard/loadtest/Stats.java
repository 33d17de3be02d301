package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.DataFormatException;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What one worker process measured since the last {@link #mark}: deliveries and their publish→deliver latency (in
 * total and per second of the window, for the plot), sequence gaps, publishes and their acks, closes by code.
 * Written from every event loop of the worker, so it uses concurrent histograms and adders.
 */
final class Stats {
  static final long MAX_LATENCY_MICROS = 120_000_000L;
  static final int MAX_SECONDS = 3600;

  private volatile long markMicros = Clock.epochMicros();
  private volatile ConcurrentHistogram latency = histogram();
  private volatile AtomicReferenceArray<ConcurrentHistogram> perSecond = new AtomicReferenceArray<>(MAX_SECONDS);
  private volatile ConcurrentHistogram ackLatency = histogram();
  final LongAdder deliveries = new LongAdder();
  final LongAdder published = new LongAdder();
  final LongAdder acked = new LongAdder();
  final LongAdder skipped = new LongAdder();
  /** Never reset: integrity counters cover the whole run. */
  final LongAdder gaps = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  /** Deliveries that arrived before an earlier publication of their channel (unordered protocols only). */
  final LongAdder reordered = new LongAdder();
  final Map<String, LongAdder> publishErrors = new ConcurrentHashMap<>();
  final Map<Integer, LongAdder> closes = new ConcurrentHashMap<>();

  static ConcurrentHistogram histogram() {
    return new ConcurrentHistogram(1, MAX_LATENCY_MICROS, 3);
  }

  /** Starts a measurement window: window counters and histograms start from zero. */
  void mark() {
    latency = histogram();
    perSecond = new AtomicReferenceArray<>(MAX_SECONDS);
    ackLatency = histogram();
    deliveries.reset();
    published.reset();
    acked.reset();
    skipped.reset();
    publishErrors.clear();
    markMicros = Clock.epochMicros();
  }

  void delivered(long sentMicros, long nowMicros) {
    deliveries.increment();
    if (sentMicros <= 0) return;
    long v = Math.max(1, Math.min(MAX_LATENCY_MICROS, nowMicros - sentMicros));
    latency.recordValue(v);
    long second = (nowMicros - markMicros) / 1_000_000L;
    if (second >= 0 && second < MAX_SECONDS) {
      AtomicReferenceArray<ConcurrentHistogram> slots = perSecond;
      ConcurrentHistogram h = slots.get((int) second);
      if (h == null) {
        slots.compareAndSet((int) second, null, histogram());
        h = slots.get((int) second);
      }
      h.recordValue(v);
    }
  }

  void acked(long rttMicros) {
    acked.increment();
    ackLatency.recordValue(Math.max(1, Math.min(MAX_LATENCY_MICROS, rttMicros)));
  }

  void publishError(String code) {
    publishErrors.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  void closed(int code) {
    closes.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  /** The window so far, as the worker reports it to the coordinator. */
  JsonObject snapshot() {
    long now = Clock.epochMicros();
    JsonArray seconds = new JsonArray();
    int last = (int) Math.min(MAX_SECONDS - 1, (now - markMicros) / 1_000_000L);
    AtomicReferenceArray<ConcurrentHistogram> slots = perSecond;
    for (int s = 0; s <= last; s++) {
      ConcurrentHistogram h = slots.get(s);
      seconds.add(h == null ? null : encode(h));
    }
    JsonObject errors = new JsonObject();
    publishErrors.forEach((k, v) -> errors.put(k, v.sum()));
    JsonObject closeCodes = new JsonObject();
    closes.forEach((k, v) -> closeCodes.put(Integer.toString(k), v.sum()));
    return new JsonObject()
        .put("windowMicros", now - markMicros)
        .put("deliveries", deliveries.sum())
        .put("latency", encode(latency))
        .put("perSecond", seconds)
        .put("published", published.sum())
        .put("acked", acked.sum())
        .put("ackLatency", encode(ackLatency))
        .put("skipped", skipped.sum())
        .put("gaps", gaps.sum())
        .put("duplicates", duplicates.sum())
        .put("reordered", reordered.sum())
        .put("publishErrors", errors)
        .put("closes", closeCodes);
  }

  static String encode(Histogram h) {
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n));
  }

  static Histogram decode(String b64) {
    if (b64 == null) return new Histogram(1, MAX_LATENCY_MICROS, 3);
    try {
      return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(b64)), 1);
    } catch (DataFormatException e) {
      throw new IllegalStateException("bad histogram from a worker", e);
    }
  }
}
