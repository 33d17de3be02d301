package io.switchboard.store;

import io.switchboard.common.Publication;
import java.util.List;

/**
 * Publications awaiting one subject's ack, in offset order.
 *
 * @param epoch the channel's epoch ("" when it has no state)
 * @param more cut by store.maxHistoryBytes: more are pending after {@link #next()}; ask again with that as
 *     {@code since} (or ack these and ask again)
 */
public record PendingPage(List<Publication> publications, String epoch, boolean more) {
  public PendingPage {
    publications = List.copyOf(publications);
  }

  static final PendingPage NONE = new PendingPage(List.of(), "", false);

  public Position next() {
    return more && !publications.isEmpty() ? new Position(publications.get(publications.size() - 1).offset(), epoch) : null;
  }
}
