package io.switchboard.store;

import io.switchboard.common.Publication;
import java.util.List;

/**
 * The answer to a recovery: the channel's current position and, when {@code recovered}, the publications after the
 * client's position in offset order (expired ones left out).
 *
 * @param more the publications were cut by store.maxHistoryBytes: they do not reach {@code offset}; the rest follow
 *     {@link #next} (read them with a history query from there, forward)
 */
public record Recovery(long offset, String epoch, boolean recovered, List<Publication> publications, boolean more) {
  public Recovery {
    publications = List.copyOf(publications);
  }

  public Recovery(long offset, String epoch, boolean recovered, List<Publication> publications) {
    this(offset, epoch, recovered, publications, false);
  }

  static Recovery lost(Position current) {
    return new Recovery(current.offset(), current.epoch(), false, List.of());
  }

  /** Where reading continues when {@link #more}: after the last publication returned, else after {@code since}. */
  Position next(long sinceOffset) {
    return new Position(publications.isEmpty() ? sinceOffset : publications.get(publications.size() - 1).offset(), epoch);
  }
}
