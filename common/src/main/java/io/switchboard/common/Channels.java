package io.switchboard.common;

import java.util.Arrays;
import java.util.List;

/**
 * Channel naming rules (architecture.md "Apps and channels").
 *
 * <ul>
 *   <li>A name is 1–255 chars of {@code [A-Za-z0-9_\-=@,.;:#!]}.
 *   <li>The namespace is the part before the first {@code :}; without one the channel is in the default namespace
 *       {@code ""}.
 *   <li>{@code user:<id>} is the personal channel of subject {@code <id>}.
 *   <li>{@code #a,b} after the last {@code :} (or as the whole name) limits subscribers to subjects a and b.
 * </ul>
 */
public final class Channels {
  private Channels() {}

  public static final int MAX_LENGTH = 255;
  public static final String PERSONAL_NAMESPACE = "user";

  private static final boolean[] ALLOWED = new boolean[128];

  static {
    for (char c = 'a'; c <= 'z'; c++) ALLOWED[c] = true;
    for (char c = 'A'; c <= 'Z'; c++) ALLOWED[c] = true;
    for (char c = '0'; c <= '9'; c++) ALLOWED[c] = true;
    for (char c : "_-=@,.;:#!".toCharArray()) ALLOWED[c] = true;
  }

  /** Returns null when the name is valid, else a message naming what is wrong with it. */
  public static String invalidReason(String name) {
    if (name == null || name.isEmpty()) return "channel name is empty";
    if (name.length() > MAX_LENGTH) return "channel name is longer than " + MAX_LENGTH + " characters";
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 128 || !ALLOWED[c]) {
        return "channel name '" + abbreviate(name) + "' has a character not in [A-Za-z0-9_-=@,.;:#!] at position " + i;
      }
    }
    return null;
  }

  /**
   * Like {@link #invalidReason} for names on the bus and in storage, which may be scoped to an app:
   * {@code <appId>~<channel>} with a valid app id and channel.
   */
  public static String invalidScopedReason(String name) {
    int i = name == null ? -1 : name.indexOf(App.SCOPE);
    if (i < 0) return invalidReason(name);
    String app = name.substring(0, i);
    if (app.isEmpty() || app.length() > 64 || !app.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-'))) {
      return "channel name '" + abbreviate(name) + "' has an invalid app scope";
    }
    return invalidReason(name.substring(i + 1));
  }

  public static boolean isValid(String name) {
    return invalidReason(name) == null;
  }

  /**
   * The namespace of a valid channel name: the part before the first ':', or "" for none. A name scoped to an app
   * ({@code app~channel}, see {@link App}) has the namespace of its app-local part.
   */
  public static String namespace(String channel) {
    int start = channel.indexOf(App.SCOPE) + 1;
    int i = channel.indexOf(':', start);
    return i < 0 ? "" : channel.substring(start, i);
  }

  public static String personal(String subject) {
    return PERSONAL_NAMESPACE + ":" + subject;
  }

  /** Whether the channel is someone's personal channel {@code user:<id>}. */
  public static boolean isPersonal(String channel) {
    return channel.startsWith(PERSONAL_NAMESPACE + ":");
  }

  /**
   * The subjects a channel is limited to ({@code #a,b} after the last ':'), or null if it is not user-limited.
   */
  public static List<String> allowedSubjects(String channel) {
    int colon = channel.lastIndexOf(':');
    String tail = channel.substring(colon + 1);
    if (!tail.startsWith("#")) return null;
    return Arrays.asList(tail.substring(1).split(",", -1));
  }

  /**
   * Whether {@code subject} may subscribe to {@code channel} as far as the channel name alone says: a personal
   * channel only by its owner, a {@code #}-limited channel only by its listed subjects. Grants are checked
   * separately.
   */
  public static boolean nameAllowsSubscriber(String channel, String subject) {
    if (isPersonal(channel)) return channel.equals(personal(subject));
    List<String> allowed = allowedSubjects(channel);
    return allowed == null || allowed.contains(subject);
  }

  public static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 61) + "...";
  }
}
