package io.switchboard.store;

import io.switchboard.common.Publication;
import java.util.List;

/** A page of history in the requested order, with the channel's current position. */
public record HistoryPage(List<Publication> publications, long offset, String epoch) {
  public HistoryPage {
    publications = List.copyOf(publications);
  }
}
