package io.switchboard.store;

import io.switchboard.common.Publication;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Selects a history page from entries offered in scan order (ascending offsets, or descending when reversed) within
 * {@link HistoryQuery#lowOffset()}..{@link HistoryQuery#highOffset(long)}. Shared by both engines so they answer
 * the same page for the same history. The page ends at the query's limit or when the next matching publication does
 * not fit the byte budget ({@link #more()}).
 */
final class HistoryCollector {
  private final HistoryQuery query;
  private final long now;
  private final Set<String> acked;
  private final ByteBudget budget;
  private final List<Publication> out = new ArrayList<>();
  private boolean done;

  HistoryCollector(HistoryQuery query, long now, Set<String> acked, long maxBytes) {
    this.query = query;
    this.now = now;
    this.acked = acked;
    this.budget = new ByteBudget(maxBytes);
    this.done = query.limit() <= 0;
  }

  /** Offers the next entry; returns false once the page is complete and scanning can stop. */
  boolean offer(StoredEntry e) {
    if (done) return false;
    Publication p = e.publication();
    if (query.sinceTime() != null && p.timestamp() < query.sinceTime()) {
      // timestamps grow with offsets: scanning newest-first, everything further is older still
      if (query.reverse()) done = true;
      return !done;
    }
    if (e.visible(now) && query.filter().matches(p, acked)) {
      if (!budget.take(e.bytes())) {
        done = true;
        return false;
      }
      out.add(p);
      if (out.size() >= query.limit()) done = true;
    }
    return !done;
  }

  boolean done() {
    return done;
  }

  /** Cut by the byte budget: at least one more publication matches. */
  boolean more() {
    return budget.cut();
  }

  List<Publication> publications() {
    return out;
  }
}
