package io.switchboard.gateway.core;

import io.switchboard.common.App;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections per subject ({@code gateway.maxConnectionsPerSubject}) and per app ({@code apps[].maxConnections})
 * across all event loops of this gateway JVM (close 4004 past either limit). A slot is taken when a session becomes
 * connected and given back when a connected session closes, so a refused session never holds one.
 */
public final class SubjectLimits {
  private final int max;
  private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Integer> appCounts = new ConcurrentHashMap<>();

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

  /** Takes a slot for a connection of {@code app}; false when the app holds its {@code maxConnections} already. */
  public boolean acquireApp(App app) {
    int limit = app.maxConnections();
    if (limit <= 0) return true;
    boolean[] ok = {false};
    appCounts.compute(app.id(), (id, n) -> {
      int cur = n == null ? 0 : n;
      if (cur >= limit) return n;
      ok[0] = true;
      return cur + 1;
    });
    return ok[0];
  }

  public void releaseApp(App app) {
    if (app.maxConnections() <= 0) return;
    appCounts.computeIfPresent(app.id(), (id, n) -> n <= 1 ? null : n - 1);
  }
}
