package io.switchboard.gateway.protocol.pubnub;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * PubNub timetokens from our positions. A timetoken is 17 digits of 100 ns units (Unix milliseconds x 10^4); ours is
 * {@code timestamp_ms * 10^4 + offset mod 10^4} for a stored publication, so timetokens of one channel grow with
 * its offsets (the store stamps publications in offset order, and 10^4 publications in one millisecond on one
 * channel do not happen) and stay unique per channel. Ephemeral events (presence) carry {@code timestamp_ms * 10^4}.
 */
final class Timetokens {
  private Timetokens() {}

  static long of(long timestampMs, long offset) {
    return timestampMs * 10_000L + (offset > 0 ? offset % 10_000L : 0);
  }

  /** The timetoken of a publication in the store's JSON ({@code timestamp} ISO-8601, {@code offset}). */
  static long of(JsonObject storedPublication) {
    String ts = storedPublication.getString("timestamp");
    long ms = ts == null ? 0 : Instant.parse(ts).toEpochMilli();
    return of(ms, storedPublication.getLong("offset", 0L));
  }

  static long now() {
    return System.currentTimeMillis() * 10_000L;
  }

  /** The milliseconds of a timetoken. */
  static long millis(long tt) {
    return tt / 10_000L;
  }

  /**
   * Parses a timetoken parameter: null when absent or empty; -1 when it is not a timetoken (the caller answers 400).
   */
  static Long parse(String s) {
    if (s == null || s.isEmpty()) return null;
    if (s.length() > 19) return -1L;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1L;
    }
    return Long.parseLong(s);
  }
}
