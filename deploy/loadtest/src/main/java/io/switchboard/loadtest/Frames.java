package io.switchboard.loadtest;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * Byte-level reads of the few fields the generator needs from a delivered frame ({@code _ts}, {@code _s},
 * {@code offset}, {@code epoch}), without decoding the frame to a String or parsing its JSON: at hundreds of
 * thousands of frames per second on a machine the server shares, the generator must stay cheap.
 */
final class Frames {
  private Frames() {}

  static final byte[] TS = key("_ts");
  static final byte[] SEQ = key("_s");
  static final byte[] OFFSET = key("offset");
  static final byte[] EPOCH = key("epoch");

  /** {@code "name":} as bytes. */
  static byte[] key(String name) {
    return ("\"" + name + "\":").getBytes(StandardCharsets.US_ASCII);
  }

  static boolean startsWith(Buffer b, byte[] prefix) {
    if (b.length() < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) if (b.getByte(i) != prefix[i]) return false;
    return true;
  }

  /** Index just past {@code key} at or after {@code from}, or -1. */
  static int after(Buffer b, byte[] key, int from) {
    int last = b.length() - key.length;
    byte first = key[0];
    outer:
    for (int i = Math.max(0, from); i <= last; i++) {
      if (b.getByte(i) != first) continue;
      for (int k = 1; k < key.length; k++) if (b.getByte(i + k) != key[k]) continue outer;
      return i + key.length;
    }
    return -1;
  }

  /** The non-negative integer value of {@code key}, or -1 when absent or not a number. */
  static long longValue(Buffer b, byte[] key) {
    int i = after(b, key, 0);
    if (i < 0) return -1;
    int n = b.length();
    while (i < n && b.getByte(i) == ' ') i++;
    long v = 0;
    int digits = 0;
    for (; i < n; i++) {
      byte c = b.getByte(i);
      if (c < '0' || c > '9') break;
      v = v * 10 + (c - '0');
      digits++;
    }
    return digits == 0 ? -1 : v;
  }

  /** The string value of {@code key} (no escapes expected), or null. */
  static String stringValue(Buffer b, byte[] key) {
    int i = after(b, key, 0);
    if (i < 0 || i >= b.length() || b.getByte(i) != '"') return null;
    int start = i + 1;
    int end = start;
    while (end < b.length() && b.getByte(end) != '"') end++;
    return b.getString(start, end, "UTF-8");
  }

  private static final String PAD = "x".repeat(64 * 1024);

  /**
   * The data of one publication: its send time, its sequence number on its channel and padding, about
   * {@code bytes} long in total (never shorter than the two fields).
   */
  static String payload(long sentMicros, long seq, int bytes) {
    StringBuilder b = new StringBuilder(Math.max(48, bytes + 8));
    b.append("{\"_ts\":").append(sentMicros).append(",\"_s\":").append(seq).append(",\"p\":\"");
    int pad = bytes - b.length() - 2;
    if (pad > 0) b.append(PAD, 0, Math.min(pad, PAD.length()));
    return b.append("\"}").toString();
  }
}
