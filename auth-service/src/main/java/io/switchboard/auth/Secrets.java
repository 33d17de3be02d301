package io.switchboard.auth;

import io.switchboard.common.Ids;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * API key strings and secret comparison. A key is {@code sbk_<id>_<secret>}: the id (hex, no underscore) finds the
 * stored record, the whole key is checked against the stored SHA-256. The secret has 192 random bits, so an unsalted
 * hash is enough; comparisons are constant-time on fixed-length digests so neither content nor length leaks.
 */
final class Secrets {
  private Secrets() {}

  static final String KEY_PREFIX = "sbk_";

  static String newKeyId() {
    return Ids.hex(16);
  }

  static String newKey(String id) {
    return KEY_PREFIX + id + "_" + Ids.secret(24);
  }

  /** The id part of a presented key, or null when it is not of the {@code sbk_<id>_<secret>} form. */
  static String idOf(String key) {
    if (key == null || !key.startsWith(KEY_PREFIX)) return null;
    int sep = key.indexOf('_', KEY_PREFIX.length());
    if (sep <= KEY_PREFIX.length() || sep == key.length() - 1) return null;
    return key.substring(KEY_PREFIX.length(), sep);
  }

  static String hash(String key) {
    return HexFormat.of().formatHex(sha256(key));
  }

  static boolean matchesHash(String presented, String storedHash) {
    if (presented == null || storedHash == null) return false;
    byte[] stored;
    try {
      stored = HexFormat.of().parseHex(storedHash);
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(sha256(presented), stored);
  }

  /** Constant-time equality of two secrets (e.g. the admin key). */
  static boolean same(String presented, String expected) {
    if (presented == null || expected == null) return false;
    return MessageDigest.isEqual(sha256(presented), sha256(expected));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
