package io.switchboard.store;

/**
 * The memory engine's history of one channel: a growable ring of entries with contiguous offsets, so trimming the
 * oldest entry and finding an entry by offset are both O(1) whatever the history size.
 */
final class EntryLog {
  private StoredEntry[] ring = new StoredEntry[16];
  private int head;
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** The oldest entry; the log must not be empty. */
  StoredEntry first() {
    return ring[head];
  }

  /** The entry with this offset, or null when it is not in the log. */
  StoredEntry at(long offset) {
    if (size == 0) return null;
    long i = offset - first().offset();
    return i < 0 || i >= size ? null : ring[(head + (int) i) & (ring.length - 1)];
  }

  void add(StoredEntry e) {
    if (size == ring.length) grow();
    ring[(head + size) & (ring.length - 1)] = e;
    size++;
  }

  StoredEntry removeFirst() {
    StoredEntry e = ring[head];
    ring[head] = null;
    head = (head + 1) & (ring.length - 1);
    size--;
    return e;
  }

  void clear() {
    ring = new StoredEntry[16];
    head = 0;
    size = 0;
  }

  private void grow() {
    StoredEntry[] bigger = new StoredEntry[ring.length * 2];
    for (int i = 0; i < size; i++) bigger[i] = ring[(head + i) & (ring.length - 1)];
    ring = bigger;
    head = 0;
  }
}
