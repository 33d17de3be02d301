package io.switchboard.common;

import java.security.SecureRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Identifiers: time-ordered ULIDs for publications (sortable, 26 chars of Crockford base32) and short random ids
 * for epochs, clients and keys.
 */
public final class Ids {
  private Ids() {}

  private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final SecureRandom SECURE = new SecureRandom();

  /** A ULID: 48-bit millisecond time then 80 random bits. */
  public static String ulid(long timeMillis) {
    char[] out = new char[26];
    long t = timeMillis;
    for (int i = 9; i >= 0; i--) {
      out[i] = CROCKFORD[(int) (t & 31)];
      t >>>= 5;
    }
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = r.nextLong();
    long lo = r.nextLong();
    for (int i = 10; i < 26; i++) {
      long src = i < 18 ? hi : lo;
      out[i] = CROCKFORD[(int) ((src >>> ((i % 8) * 5)) & 31)];
    }
    return new String(out);
  }

  /** {@code n} random hex chars from a fast generator (not for secrets). */
  public static String hex(int n) {
    char[] out = new char[n];
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < n; i++) out[i] = HEX[r.nextInt(16)];
    return new String(out);
  }

  /** {@code bytes} random bytes from SecureRandom as URL-safe base64: for secrets (API keys, admin key). */
  public static String secret(int bytes) {
    byte[] b = new byte[bytes];
    SECURE.nextBytes(b);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
