package io.switchboard.gateway.core;

import java.util.concurrent.ConcurrentHashMap;

/** Connections per subject across all event loops of this gateway JVM (close 4004 past the limit). */
public final class SubjectLimits {
  private final int max;
  private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();

  public SubjectLimits(int max) {
    this.max = max;
  }

  /** Takes a slot for the subject; false when it already holds the maximum (0 = unlimited). */
  public boolean acquire(String subject) {
    if (max <= 0) return true;
    boolean[] ok = {false};
    counts.compute(subject, (s, n) -> {
      int cur = n == null ? 0 : n;
      if (cur >= max) return n;
      ok[0] = true;
      return cur + 1;
    });
    return ok[0];
  }

  public void release(String subject) {
    if (max <= 0) return;
    counts.computeIfPresent(subject, (s, n) -> n <= 1 ? null : n - 1);
  }
}
