package io.switchboard.store;

import io.switchboard.common.Publication;
import java.util.List;

/**
 * The answer to a recovery: the channel's current position and, when {@code recovered}, every publication after the
 * client's position in offset order (expired ones left out).
 */
public record Recovery(long offset, String epoch, boolean recovered, List<Publication> publications) {
  public Recovery {
    publications = List.copyOf(publications);
  }

  static Recovery lost(Position current) {
    return new Recovery(current.offset(), current.epoch(), false, List.of());
  }
}
