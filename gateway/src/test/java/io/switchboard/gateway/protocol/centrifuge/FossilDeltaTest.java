package io.switchboard.gateway.protocol.centrifuge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The encoder against a decoder written here from the format's description (the one centrifuge-js runs is
 * exercised end to end in the launcher's CentrifugeDeltaTest).
 */
class FossilDeltaTest {

  @Test
  void growingJsonBecomesATinyDelta() {
    StringBuilder content = new StringBuilder();
    byte[] prev = json(content, 0);
    for (int n = 1; n <= 300; n++) {
      content.append(" tok").append(n);
      byte[] next = json(content, n);
      byte[] delta = FossilDelta.create(prev, next);
      assertArrayEquals(next, apply(prev, delta));
      if (prev.length > 64) assertTrue(delta.length < 48, "delta of " + delta.length + " bytes for a " + next.length + "-byte target");
      prev = next;
    }
  }

  @Test
  void multiByteCharactersAreNeverSplit() throws CharacterCodingException {
    Random r = new Random(7);
    String alphabet = "aé€😀ж中 ";
    for (int round = 0; round < 200; round++) {
      StringBuilder a = new StringBuilder();
      for (int k = 0; k < 50 + r.nextInt(200); k++) a.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(7))));
      StringBuilder b = new StringBuilder(a);
      for (int edits = 0; edits < 3; edits++) {
        int at = b.offsetByCodePoints(0, r.nextInt(b.codePointCount(0, b.length())));
        b.insert(at, "€x😀");
      }
      byte[] src = a.toString().getBytes(StandardCharsets.UTF_8);
      byte[] tgt = b.toString().getBytes(StandardCharsets.UTF_8);
      byte[] delta = FossilDelta.create(src, tgt);
      assertArrayEquals(tgt, apply(src, delta));
      // the delta is valid UTF-8 (it travels as a JSON string)
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(delta));
    }
  }

  @Test
  void randomEditsRoundTrip() {
    Random r = new Random(42);
    for (int round = 0; round < 300; round++) {
      byte[] src = new byte[r.nextInt(3000)];
      for (int k = 0; k < src.length; k++) src[k] = (byte) ('a' + r.nextInt(4));
      byte[] tgt = src.clone();
      if (tgt.length > 10) {
        for (int e = 0; e < 5; e++) tgt[r.nextInt(tgt.length)] = (byte) ('a' + r.nextInt(26));
      }
      if (r.nextBoolean()) tgt = java.util.Arrays.copyOf(tgt, Math.max(0, tgt.length - r.nextInt(100)));
      assertArrayEquals(tgt, apply(src, FossilDelta.create(src, tgt)));
    }
    assertArrayEquals(new byte[0], apply(new byte[0], FossilDelta.create(new byte[0], new byte[0])));
    assertArrayEquals("x".getBytes(), apply("0123456789abcdefghij".getBytes(), FossilDelta.create("0123456789abcdefghij".getBytes(), "x".getBytes())));
  }

  @Test
  void checksumAndIntegersFollowTheFormat() {
    // one big-endian word; a short tail is padded on the right
    assertEquals(0x61626364L, FossilDelta.checksum("abcd".getBytes()));
    assertEquals(0x61626364L + 0x65000000L, FossilDelta.checksum("abcde".getBytes()));
    var out = new java.io.ByteArrayOutputStream();
    FossilDelta.putInt(out, 0);
    FossilDelta.putInt(out, 63);
    FossilDelta.putInt(out, 64);
    assertEquals("0~10", out.toString());
  }

  private static byte[] json(CharSequence content, int seq) {
    return ("{\"content\":\"" + content + "\",\"seq\":" + seq + ",\"kind\":\"quest.content_delta\"}").getBytes(StandardCharsets.UTF_8);
  }

  // --- a decoder, from the format's description ---------------------------------------------------

  private static final String DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~";

  private static byte[] apply(byte[] src, byte[] delta) {
    int[] pos = {0};
    long size = readInt(delta, pos);
    assertEquals('\n', delta[pos[0]++]);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while (pos[0] < delta.length) {
      long cnt = readInt(delta, pos);
      char op = (char) delta[pos[0]++];
      switch (op) {
        case '@' -> {
          long ofst = readInt(delta, pos);
          assertEquals(',', delta[pos[0]++]);
          out.write(src, (int) ofst, (int) cnt);
        }
        case ':' -> {
          out.write(delta, pos[0], (int) cnt);
          pos[0] += (int) cnt;
        }
        case ';' -> {
          byte[] result = out.toByteArray();
          assertEquals(size, result.length, "size");
          assertEquals(FossilDelta.checksum(result), cnt, "checksum");
          assertEquals(delta.length, pos[0], "bytes after the end");
          return result;
        }
        default -> throw new AssertionError("unknown op " + op);
      }
    }
    throw new AssertionError("unterminated delta");
  }

  private static long readInt(byte[] d, int[] pos) {
    long v = 0;
    int c;
    while (pos[0] < d.length && (c = DIGITS.indexOf(d[pos[0]])) >= 0) {
      v = (v << 6) + c;
      pos[0]++;
    }
    return v;
  }
}
