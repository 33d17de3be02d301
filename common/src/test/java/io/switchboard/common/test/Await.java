package io.switchboard.common.test;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests: on futures, or on a polled condition with a deadline — never a fixed sleep. */
public final class Await {
  private Await() {}

  public static final Duration DEFAULT = Duration.ofSeconds(20);

  /** Blocks the (non-Vert.x) test thread until the future completes; rethrows its failure. */
  public static <T> T result(Future<T> f) {
    return result(f, DEFAULT);
  }

  public static <T> T result(Future<T> f, Duration timeout) {
    try {
      return f.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("future did not complete within " + timeout, e);
    }
  }

  /** The failure of a future that must fail. */
  public static Throwable failure(Future<?> f) {
    try {
      f.await(DEFAULT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("future did not complete within " + DEFAULT, e);
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("expected the future to fail, but it succeeded");
  }

  /** Polls {@code condition} every 10 ms until it holds or the deadline passes (then fails naming {@code what}). */
  public static void until(String what, BooleanSupplier condition) {
    until(what, DEFAULT, condition);
  }

  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    until(() -> what, timeout, condition);
  }

  /** As {@link #until(String, Duration, BooleanSupplier)}; {@code what} is asked at the deadline (the state then). */
  public static void until(java.util.function.Supplier<String> what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for: " + what.get());
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what.get());
      }
    }
  }
}
