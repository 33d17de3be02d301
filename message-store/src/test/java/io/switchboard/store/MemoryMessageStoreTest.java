package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.common.test.Await;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The storage contract on the memory engine, plus its sweep. */
class MemoryMessageStoreTest extends MessageStoreContract {
  @Override
  MessageStore newStore(Vertx vertx, StoreSettings settings) {
    return new MemoryMessageStore(vertx, settings);
  }

  @Override
  MessageStore sameDataStore() {
    return store; // one object shared by two threads
  }

  @Override
  MessageStore sameData(StoreSettings settings) {
    return ((MemoryMessageStore) store).withSettings(settings);
  }

  @Test
  @DisplayName("the sweep forgets channels whose history and idempotency records expired")
  void sweepForgetsExpiredChannels() {
    MemoryMessageStore memory = (MemoryMessageStore) store;
    String ch = channel();
    Await.result(store.append(pub(ch, 1), opts(10, 1, 5), "k"));
    memory.sweep();
    assertEquals(1, memory.channelCount());
    Await.until("channel swept", () -> {
      memory.sweep();
      return memory.channelCount() == 0;
    });
  }
}
