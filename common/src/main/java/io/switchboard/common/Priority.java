package io.switchboard.common;

import java.util.Locale;

/** Publication priority; {@link #NORMAL} unless the publisher says otherwise. */
public enum Priority {
  CRITICAL, HIGH, NORMAL, LOW;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name, or returns null when it is not a priority. */
  public static Priority parse(String s) {
    if (s == null) return null;
    for (Priority p : values()) if (p.wire().equals(s)) return p;
    return null;
  }
}
