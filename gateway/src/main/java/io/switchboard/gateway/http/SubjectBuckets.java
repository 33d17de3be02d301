package io.switchboard.gateway.http;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The publish rate limit of REST callers: one token bucket per subject per event loop, with the rate and burst a
 * WebSocket connection has. Buckets full again are forgotten, so the map holds only recent publishers.
 */
final class SubjectBuckets {
  private final double rate;
  private final int burst;
  private final Map<String, double[]> buckets = new HashMap<>();

  SubjectBuckets(double rate, int burst) {
    this.rate = rate;
    this.burst = burst;
  }

  /** 0 when a publish is allowed, else the milliseconds until the next token. */
  long take(String subject, long now) {
    double[] b = buckets.computeIfAbsent(subject, s -> new double[] {burst, now});
    b[0] = Math.min(burst, b[0] + (now - b[1]) * rate / 1000.0);
    b[1] = now;
    if (b[0] >= 1) {
      b[0] -= 1;
      return 0;
    }
    return Math.max(1, (long) Math.ceil((1 - b[0]) * 1000.0 / rate));
  }

  /** Drops buckets that have refilled completely (they equal a new one). */
  void sweep(long now) {
    for (Iterator<double[]> it = buckets.values().iterator(); it.hasNext(); ) {
      double[] b = it.next();
      if (b[0] + (now - b[1]) * rate / 1000.0 >= burst) it.remove();
    }
  }
}
