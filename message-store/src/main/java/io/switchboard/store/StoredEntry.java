package io.switchboard.store;

import io.switchboard.common.Publication;

/**
 * A publication as held in history.
 *
 * @param keepUntil epoch ms when the namespace's history TTL drops it (timestamp + historyTtl at append); an entry
 *     past it counts as trimmed — recovery through it fails — whereas a publication past its own {@code ttl} is only
 *     skipped
 * @param bytes the size of the publication's encoded JSON ({@link #encodedSize}), what {@link ByteBudget} counts
 */
record StoredEntry(Publication publication, long keepUntil, int bytes) {
  StoredEntry(Publication publication, long keepUntil) {
    this(publication, keepUntil, encodedSize(publication));
  }

  /** UTF-8 bytes of {@code publication.toJson()}: the measure of store.maxHistoryBytes. */
  static int encodedSize(Publication publication) {
    return publication.toJson().toBuffer().length();
  }

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
