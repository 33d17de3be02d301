package io.switchboard.gateway.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The Vert.x internals {@link DirectWrites} relies on are still there: this fails on a Vert.x upgrade that moved
 * them (the gateway would then silently keep Vert.x's default queue and its memory per connection). That sockets
 * with the swapped queue carry every frame, close and ping is shown by the whole end-to-end suite, which runs with it.
 */
class DirectWritesTest {
  @Test
  void vertxInternalsForTheDirectWriteQueueAreFound() {
    assertTrue(DirectWrites.available(), "Vert.x internals for the direct write queue not found");
  }

  @Test
  void vertxInternalsForTheUpgradedHttpConnectionAreFound() {
    assertTrue(DirectWrites.availableForHandshakes(), "Vert.x internals for the upgrade's HTTP connection not found");
  }

  @Test
  void vertxInternalsForAHeldHttpResponseAreFound() {
    // held long-polls swap the HTTP connection's queue while held and give it a fresh one after
    assertTrue(DirectWrites.httpAvailable(), "Vert.x internals for a held HTTP response's write queue not found");
  }
}
