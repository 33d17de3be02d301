package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.switchboard.common.test.Await;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

class MemoryPresenceStoreTest extends PresenceStoreContract {
  private final MemoryPresenceStore store = new MemoryPresenceStore();

  @Override
  protected PresenceStore store() {
    return store;
  }

  @Override
  protected PresenceStore sameStorage() {
    return store;
  }

  @Test
  void oneStorePerVertxSharedByAllVerticleInstances() {
    Vertx vertx = Vertx.vertx();
    Vertx other = Vertx.vertx();
    try {
      assertSame(MemoryPresenceStore.shared(vertx), MemoryPresenceStore.shared(vertx));
      assertNotSame(MemoryPresenceStore.shared(vertx), MemoryPresenceStore.shared(other));
    } finally {
      Await.result(vertx.close());
      Await.result(other.close());
    }
  }
}
