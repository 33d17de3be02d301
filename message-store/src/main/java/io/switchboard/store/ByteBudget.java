package io.switchboard.store;

/**
 * Bounds the publications of one answer (a history or pending page, a recovery) by their encoded size
 * ({@link StoredEntry#bytes()}), so the gateway never has to queue an answer larger than its per-connection queue.
 * The first publication always fits — every page makes progress, and no single publication is larger than a frame
 * — and once one does not fit, none after it does (pages stay contiguous). Not thread-safe: one per answer.
 */
final class ByteBudget {
  private final long max;
  private long used;
  private boolean taken;
  private boolean cut;

  ByteBudget(long max) {
    this.max = max;
  }

  /** Whether an entry of {@code bytes} fits; if not, the answer is cut here. */
  boolean take(int bytes) {
    if (cut) return false;
    if (taken && used + bytes > max) {
      cut = true;
      return false;
    }
    used += bytes;
    taken = true;
    return true;
  }

  /** Whether some publication did not fit: the answer is partial and says {@code more}. */
  boolean cut() {
    return cut;
  }
}
