package io.switchboard.store;

import io.switchboard.common.Publication;

/**
 * A publication as held in history. Immutable but for a cached size; equal when the publication and keep-until are.
 *
 * <p>{@code keepUntil}: epoch ms when the namespace's history TTL drops it (timestamp + historyTtl at append); an
 * entry past it counts as trimmed — recovery through it fails — whereas a publication past its own {@code ttl} is
 * only skipped.
 */
final class StoredEntry {
  private final Publication publication;
  private final long keepUntil;
  /** {@link #encodedSize} of the publication, computed on first use (0 = not yet: no JSON is 0 bytes). */
  private int bytes;

  /** An entry whose size is computed when an answer first needs it (memory engine: appends stay cheap). */
  StoredEntry(Publication publication, long keepUntil) {
    this(publication, keepUntil, 0);
  }

  /** An entry whose size is already known (Redis engine: from the stored JSON). */
  StoredEntry(Publication publication, long keepUntil, int bytes) {
    this.publication = publication;
    this.keepUntil = keepUntil;
    this.bytes = bytes;
  }

  /** UTF-8 bytes of {@code publication.toJson()}: the measure of store.maxHistoryBytes. */
  static int encodedSize(Publication publication) {
    return publication.toJson().toBuffer().length();
  }

  Publication publication() {
    return publication;
  }

  long keepUntil() {
    return keepUntil;
  }

  /** The size {@link ByteBudget} counts. A benign race: two threads may both compute the same value. */
  int bytes() {
    int b = bytes;
    if (b == 0) bytes = b = encodedSize(publication);
    return b;
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

  @Override
  public boolean equals(Object o) {
    return o instanceof StoredEntry e && e.keepUntil == keepUntil && e.publication.equals(publication);
  }

  @Override
  public int hashCode() {
    return publication.hashCode() * 31 + Long.hashCode(keepUntil);
  }

  @Override
  public String toString() {
    return "StoredEntry[" + publication + ", keepUntil=" + keepUntil + "]";
  }
}
