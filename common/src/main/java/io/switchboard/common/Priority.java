package io.switchboard.common;

import java.util.Locale;

/** Publication priority; {@link #NORMAL} unless the publisher says otherwise. */
public enum Priority {
  CRITICAL, HIGH, NORMAL, LOW;

  /** The wire name, computed once: every publication's JSON carries it (it was lower-cased per call). */
  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  private static final Priority[] ALL = values(); // values() copies its array on every call

  /** Parses a wire name, or returns null when it is not a priority. */
  public static Priority parse(String s) {
    if (s == null) return null;
    for (Priority p : ALL) if (p.wire.equals(s)) return p;
    return null;
  }
}
