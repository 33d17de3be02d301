package io.switchboard.loadtest;

import java.time.Instant;

/**
 * Wall-clock microseconds shared by every process on this machine. Latency is measured across processes (the
 * publisher stamps, a subscriber in another JVM subtracts), and {@link System#nanoTime()} has a per-process origin,
 * so each process anchors nanoTime to the epoch once at start: reads stay monotonic and cheap, and processes agree
 * to within a few microseconds.
 */
final class Clock {
  private Clock() {}

  private static final long OFFSET_NANOS = calibrate();

  static long epochMicros() {
    return (System.nanoTime() + OFFSET_NANOS) / 1000;
  }

  /** The smallest offset of a few tries: the one least delayed between the two reads. */
  private static long calibrate() {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 9; i++) {
      Instant now = Instant.now();
      long nano = System.nanoTime();
      long offset = now.getEpochSecond() * 1_000_000_000L + now.getNano() - nano;
      best = Math.min(best, offset);
    }
    return best;
  }
}
