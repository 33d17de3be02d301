package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.switchboard.common.Publication;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EntryLogTest {
  private static StoredEntry entry(long offset) {
    Publication p = new Publication("id" + offset, "c", offset, "e", 0, "ev", null, null, null, null, null, 0, false, null);
    return new StoredEntry(p, Long.MAX_VALUE);
  }

  @Test
  @DisplayName("offsets stay addressable while the ring wraps, grows and trims")
  void wrapsAndGrows() {
    EntryLog log = new EntryLog();
    long next = 1;
    for (int round = 0; round < 50; round++) {
      for (int i = 0; i < 7; i++) log.add(entry(next++));
      for (int i = 0; i < 5; i++) log.removeFirst();
      long first = log.first().offset();
      assertEquals(next - first, log.size());
      for (long o = first; o < next; o++) assertEquals(o, log.at(o).offset());
      assertNull(log.at(first - 1));
      assertNull(log.at(next));
    }
    log.clear();
    assertNull(log.at(1));
  }
}
