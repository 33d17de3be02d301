package io.switchboard.store;

import io.switchboard.common.Publication;

/**
 * A publication as held in history.
 *
 * @param keepUntil epoch ms when the namespace's history TTL drops it (timestamp + historyTtl at append); an entry
 *     past it counts as trimmed — recovery through it fails — whereas a publication past its own {@code ttl} is only
 *     skipped
 */
record StoredEntry(Publication publication, long keepUntil) {
  boolean retained(long now) {
    return keepUntil > now;
  }

  /** Retained and not expired by its own ttl: the only entries reads ever return. */
  boolean visible(long now) {
    return retained(now) && !publication.expiredAt(now);
  }

  long offset() {
    return publication.offset();
  }
}
