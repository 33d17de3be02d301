package io.switchboard.gateway.core;

/**
 * An app: the unit of isolation. Its channel space is its own: channels of an app other than the default one are
 * scoped on the bus and in storage as {@code <appId>~<channel>} ({@code ~} is not a valid channel character, so no
 * client-chosen name can reach into another app). The default app's channels are unscoped, so a single-app
 * deployment keeps plain names everywhere.
 */
public record App(String id, String key, String secret, String name, boolean enabled, boolean clientEvents,
    int maxConnections) {
  public static final String DEFAULT_ID = "default";
  static final char SCOPE = '~';

  public boolean isDefault() {
    return DEFAULT_ID.equals(id);
  }

  /** The bus/storage name of one of this app's channels. */
  public String scope(String channel) {
    return isDefault() ? channel : id + SCOPE + channel;
  }

  /** The app-local name of a scoped channel name. */
  public static String local(String scoped) {
    int i = scoped.indexOf(SCOPE);
    return i < 0 ? scoped : scoped.substring(i + 1);
  }

  /** The app id of a scoped channel name. */
  public static String appOf(String scoped) {
    int i = scoped.indexOf(SCOPE);
    return i < 0 ? DEFAULT_ID : scoped.substring(0, i);
  }
}
