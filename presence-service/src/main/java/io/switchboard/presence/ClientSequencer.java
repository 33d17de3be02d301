package io.switchboard.presence;

import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs the operations of one client one after another, in the order they arrived, so that a leave never overtakes
 * the join sent before it (storage round trips of two operations could otherwise complete in either order and leave
 * a member behind). Operations of different clients run concurrently. Used from one event loop only.
 */
final class ClientSequencer {
  private final Map<String, Future<?>> tails = new HashMap<>();

  <T> Future<T> run(String client, Supplier<Future<T>> operation) {
    Future<?> previous = tails.get(client);
    Future<T> next = previous == null ? start(operation) : previous.transform(done -> start(operation));
    tails.put(client, next);
    next.onComplete(done -> tails.remove(client, next));
    return next;
  }

  private static <T> Future<T> start(Supplier<Future<T>> operation) {
    try {
      return operation.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
