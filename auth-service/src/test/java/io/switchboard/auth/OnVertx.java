package io.switchboard.auth;

import io.switchboard.common.test.Await;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Runs a test's Vert.x calls on a Vert.x context and waits for them from the test thread.
 *
 * <p>Why: with Vert.x 5.0.10 on this machine, HttpClient requests started from a non-Vert.x thread (the JUnit
 * thread) now and then never complete (measured: about 1 in 600 POST/GET exchanges hung forever; the same loop
 * started on a context: 0 in 8000; the JDK client against the same server: 0 in 2000). Starting every call on a
 * context avoids the race; bus and Redis calls go the same way for the same reason.
 */
final class OnVertx {
  private final Context context;

  OnVertx(Vertx vertx) {
    this.context = vertx.getOrCreateContext();
  }

  <T> Future<T> run(Supplier<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> {
      try {
        call.get().onComplete(promise);
      } catch (RuntimeException e) {
        promise.fail(e);
      }
    });
    return promise.future();
  }

  <T> T await(Supplier<Future<T>> call) {
    return Await.result(run(call));
  }

  Throwable failure(Supplier<Future<?>> call) {
    return Await.failure(run(call::get));
  }
}
