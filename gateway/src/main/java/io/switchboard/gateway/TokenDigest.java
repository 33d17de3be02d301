package io.switchboard.gateway;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A token as the gateway remembers it between requests of one client (held polls re-send it every time): the first
 * 128 bits of its SHA-256. Not the token itself: a token is ~0.7 KB, and with a token per agent every held poll would
 * keep one. 128 bits make a collision between two tokens out of reach; the token was verified once before its digest
 * is trusted, and a digest is only ever compared with one computed from a token that arrived over the wire.
 * A SHA-256 of a token costs ~2 µs, its ES256 verification ~50 µs.
 *
 * @param high the first 64 bits
 * @param low the next 64 bits
 */
public record TokenDigest(long high, long low) {
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  });

  /** The digest of {@code token} (not null). */
  public static TokenDigest of(String token) {
    ByteBuffer d = ByteBuffer.wrap(SHA256.get().digest(token.getBytes(StandardCharsets.UTF_8)));
    return new TokenDigest(d.getLong(0), d.getLong(8));
  }

  /** Whether this is the digest {@code (high, low)}; compared without an early exit. */
  public boolean is(long high, long low) {
    return ((this.high ^ high) | (this.low ^ low)) == 0;
  }
}
