package io.switchboard.store;

import io.switchboard.common.NamespaceOptions;

/**
 * A history request.
 *
 * <p>Order and bounds: forward (oldest first) returns publications with offset {@code > since.offset}; reverse
 * (newest first) returns publications with offset {@code < since.offset} — so the oldest offset of a reverse page is
 * the {@code since} of the next older page. {@code sinceTime} keeps publications with {@code timestamp >= sinceTime}
 * in either order. At most {@code limit} publications (0 = position only).
 *
 * @param since a position in the channel (its epoch must be current) or null
 * @param sinceTime epoch milliseconds or null; with {@code since} too, both bounds apply
 * @param subject the querying subject; required by {@link HistoryFilter#unacked()}
 */
public record HistoryQuery(
    String channel,
    NamespaceOptions options,
    Position since,
    Long sinceTime,
    int limit,
    boolean reverse,
    HistoryFilter filter,
    String subject) {

  public HistoryQuery {
    if (filter == null) filter = HistoryFilter.ALL;
  }

  /** Newest-first or oldest-first page of everything, no bounds. */
  public static HistoryQuery latest(String channel, NamespaceOptions options, int limit, boolean reverse) {
    return new HistoryQuery(channel, options, null, null, limit, reverse, HistoryFilter.ALL, null);
  }

  /** This query with its limit lowered to {@code max} (engines clamp; the service refuses larger limits). */
  HistoryQuery limitAtMost(int max) {
    if (limit <= max) return this;
    return new HistoryQuery(channel, options, since, sinceTime, max, reverse, filter, subject);
  }

  /** Lowest offset that may be returned. */
  long lowOffset() {
    return !reverse && since != null ? since.offset() + 1 : 1;
  }

  /** Highest offset that may be returned, given the channel's current offset. */
  long highOffset(long current) {
    return reverse && since != null ? Math.min(current, since.offset() - 1) : current;
  }
}
