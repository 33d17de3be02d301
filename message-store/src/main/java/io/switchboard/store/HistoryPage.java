package io.switchboard.store;

import io.switchboard.common.Publication;
import java.util.List;

/**
 * A page of history in the requested order, with the channel's current position.
 *
 * @param more the page was cut by store.maxHistoryBytes before reaching its limit: at least one more publication
 *     matches; ask again with {@code since = } {@link #next()} (same direction, filter and sinceTime)
 */
public record HistoryPage(List<Publication> publications, long offset, String epoch, boolean more) {
  public HistoryPage {
    publications = List.copyOf(publications);
  }

  public HistoryPage(List<Publication> publications, long offset, String epoch) {
    this(publications, offset, epoch, false);
  }

  /** Where the next page starts when {@link #more}: the last publication's position (null otherwise). */
  public Position next() {
    return more && !publications.isEmpty() ? new Position(publications.get(publications.size() - 1).offset(), epoch) : null;
  }
}
