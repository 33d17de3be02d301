package io.switchboard.gateway.protocol.centrifuge;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * A Fossil delta encoder (the format of the Fossil SCM, the one centrifuge-js applies for {@code delta: 'fossil'}).
 *
 * <p>The format: the target's length as a base-64 integer and {@code \n}; then commands, each a base-64 count
 * followed by {@code @offset,} (copy that many bytes of the source from offset), {@code :} and that many literal
 * bytes (insert), or {@code ;} (end: the count is the target's checksum). Integers use the digits
 * {@code 0-9 A-Z _ a-z ~}, most significant first.
 *
 * <p>The search: the source is indexed by a hash of each aligned {@link #BLOCK}-byte block; the target is scanned
 * with a rolling hash of the same width; a candidate is verified, then extended forwards and backwards (backwards
 * only over bytes not yet emitted). The longest match wins; unmatched bytes become inserts.
 *
 * <p>UTF-8 invariant: the delta travels as a JSON string (centrifuge-js re-encodes it with TextEncoder), so it must
 * be valid UTF-8 when the target is: copies start and end on character boundaries of the target, hence every insert
 * holds whole characters and the command bytes around it are ASCII.
 */
final class FossilDelta {
  /** Hash window and source block size (Fossil's NHASH). */
  static final int BLOCK = 16;
  private static final byte[] DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"
      .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final int BASE = 31;
  /** Candidates verified per window: bounds the work on repetitive sources. */
  private static final int MAX_CANDIDATES = 64;
  /** BASE^(BLOCK-1), to take the outgoing byte off the rolling hash. */
  private static final int TOP;

  static {
    int t = 1;
    for (int i = 1; i < BLOCK; i++) t *= BASE;
    TOP = t;
  }

  private FossilDelta() {}

  /** The delta that turns {@code source} into {@code target}. */
  static byte[] create(byte[] source, byte[] target) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + target.length / 8);
    putInt(out, target.length);
    out.write('\n');
    int lenSrc = source.length;
    int lenTgt = target.length;
    if (lenSrc >= BLOCK && lenTgt >= BLOCK) {
      Index index = new Index(source);
      int base = 0; // first target byte not yet emitted
      int i = base; // start of the hash window
      int h = hash(target, i);
      while (i + BLOCK <= lenTgt) {
        int bestLen = 0;
        int bestSrc = 0;
        int bestTgt = 0;
        int tries = 0;
        for (int k = index.first(h); k >= 0 && tries < MAX_CANDIDATES; k = index.next(k), tries++) {
          int j = index.offset(k);
          if (!Arrays.equals(source, j, j + BLOCK, target, i, i + BLOCK)) continue;
          int fwd = BLOCK;
          while (j + fwd < lenSrc && i + fwd < lenTgt && source[j + fwd] == target[i + fwd]) fwd++;
          int back = 0;
          while (j - back > 0 && i - back > base && source[j - back - 1] == target[i - back - 1]) back++;
          int s = j - back;
          int t = i - back;
          int len = back + fwd;
          // copies must cover whole UTF-8 characters of the target
          while (len > 0 && continuation(target, t)) {
            s++;
            t++;
            len--;
          }
          while (len > 0 && t + len < lenTgt && continuation(target, t + len)) len--;
          if (len > bestLen) {
            bestLen = len;
            bestSrc = s;
            bestTgt = t;
          }
        }
        if (bestLen >= BLOCK) {
          if (bestTgt > base) insert(out, target, base, bestTgt);
          putInt(out, bestLen);
          out.write('@');
          putInt(out, bestSrc);
          out.write(',');
          base = bestTgt + bestLen;
          i = base;
          if (i + BLOCK <= lenTgt) h = hash(target, i);
          continue;
        }
        if (i + BLOCK >= lenTgt) break;
        h = (h - target[i] * TOP) * BASE + target[i + BLOCK];
        i++;
      }
      if (base < lenTgt) insert(out, target, base, lenTgt);
    } else if (lenTgt > 0) {
      insert(out, target, 0, lenTgt);
    }
    putInt(out, checksum(target));
    out.write(';');
    return out.toByteArray();
  }

  private static boolean continuation(byte[] b, int i) {
    return (b[i] & 0xC0) == 0x80;
  }

  private static void insert(ByteArrayOutputStream out, byte[] target, int from, int to) {
    putInt(out, to - from);
    out.write(':');
    out.write(target, from, to - from);
  }

  private static int hash(byte[] b, int from) {
    int h = 0;
    int end = Math.min(b.length, from + BLOCK);
    for (int k = from; k < end; k++) h = h * BASE + b[k];
    return h;
  }

  /** A base-64 integer, most significant digit first; 0 is "0". */
  static void putInt(ByteArrayOutputStream out, long v) {
    if (v == 0) {
      out.write('0');
      return;
    }
    byte[] buf = new byte[12];
    int n = 0;
    while (v > 0) {
      buf[n++] = DIGITS[(int) (v & 63)];
      v >>>= 6;
    }
    while (n > 0) out.write(buf[--n]);
  }

  /**
   * Fossil's checksum: the target read as big-endian 32-bit words (a short tail padded with zeros on the right),
   * summed modulo 2^32.
   */
  static long checksum(byte[] b) {
    int sum = 0;
    int n = b.length - b.length % 4;
    for (int k = 0; k < n; k += 4) {
      sum += ((b[k] & 0xFF) << 24) | ((b[k + 1] & 0xFF) << 16) | ((b[k + 2] & 0xFF) << 8) | (b[k + 3] & 0xFF);
    }
    int tail = 0;
    for (int k = n, shift = 24; k < b.length; k++, shift -= 8) tail |= (b[k] & 0xFF) << shift;
    return (sum + tail) & 0xFFFFFFFFL;
  }

  /**
   * Source blocks by hash, chained through an array, newest first: every aligned block, plus the source's last
   * {@link #BLOCK} bytes (documents often end alike — a closing brace, trailing fields — at an unaligned offset).
   */
  private static final class Index {
    private final int[] heads;
    private final int[] offsets;
    private final int[] chain;
    private final int mask;

    Index(byte[] source) {
      int aligned = source.length / BLOCK;
      boolean tail = source.length % BLOCK != 0;
      int blocks = aligned + (tail ? 1 : 0);
      int size = Integer.highestOneBit(Math.max(1, blocks) * 2 - 1) << 1;
      heads = new int[size];
      Arrays.fill(heads, -1);
      offsets = new int[blocks];
      chain = new int[blocks];
      mask = size - 1;
      for (int k = 0; k < blocks; k++) {
        offsets[k] = k < aligned ? k * BLOCK : source.length - BLOCK;
        int slot = hash(source, offsets[k]) & mask;
        chain[k] = heads[slot];
        heads[slot] = k;
      }
    }

    /** The first candidate block with this hash's slot (an index for {@link #offset}/{@link #next}), or -1. */
    int first(int h) {
      return heads[h & mask];
    }

    int next(int k) {
      return chain[k];
    }

    int offset(int k) {
      return offsets[k];
    }
  }
}
