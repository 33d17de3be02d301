package io.switchboard.common;

import java.util.Locale;

/** What a grant lets its holder do on the channels it matches. */
public enum Capability {
  SUBSCRIBE, PUBLISH, PRESENCE, HISTORY,
  /**
   * On an API key: the key may use the gateway's server API ({@code /api/…}) on the channels it matches. Tokens
   * minted from such a key carry it too; clients gain nothing from it (no client operation asks for it).
   */
  SERVER;

  /** Made once: every connect parses its token's capabilities by these names. */
  private final String wire = name().toLowerCase(Locale.ROOT);
  private static final Capability[] ALL = values();

  public String wire() {
    return wire;
  }

  /** Parses a wire name, or returns null when it is not a capability. */
  public static Capability parse(String s) {
    if (s == null) return null;
    for (Capability c : ALL) if (c.wire.equals(s)) return c;
    return null;
  }
}
