package io.switchboard.gateway.protocol.nativev1;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.Subscriptions.Outcome;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The connect answer written straight to bytes equals, byte for byte, the JsonObject answer serialised by Jackson
 * databind (what Vert.x's {@code toBuffer} uses in the server) — for escapes, control characters, non-ASCII text,
 * the largest numbers, every ping interval shape and expiries across the whole 4-digit-year range.
 */
class ConnectReplyTest {
  private static final DatabindCodec DATABIND = new DatabindCodec();
  private static final List<Outcome> LAZY = List.of(new Outcome("user:alice", null, true, 0, "~l9x3k2", null));

  /** Both paths' bytes; the direct one must exist where {@code direct} says so. */
  private static void same(boolean direct, String id, String client, String subject, long exp, double ping, List<Outcome> outcomes) {
    JsonObject tree = ConnectReply.tree(id, client, subject, exp, ping, outcomes);
    byte[] expected = DATABIND.toBuffer(tree).getBytes();
    assertArrayEquals(expected, tree.toBuffer().getBytes(), "Vert.x's toBuffer is databind's here");
    byte[] fast = ConnectReply.direct(id, client, subject, exp, ping, outcomes);
    if (direct) {
      assertNotNull(fast, "direct bytes expected for " + tree.encode());
      assertEquals(new String(expected, StandardCharsets.UTF_8), new String(fast, StandardCharsets.UTF_8));
      assertArrayEquals(expected, fast);
    } else {
      assertNull(fast, "general path expected for " + tree.encode());
    }
    ByteBuf b = ConnectReply.encode(id, client, subject, exp, ping, outcomes);
    try {
      assertArrayEquals(expected, ByteBufUtil.getBytes(b));
    } finally {
      b.release();
    }
  }

  @Test
  @DisplayName("a plain answer, as a response and as the connected push")
  void plain() {
    same(true, "1", "c-4f2a9", "alice", 1_800_000_000L, 25.0, LAZY);
    same(true, null, "c-4f2a9", "alice", 1_800_000_000L, 25.0, LAZY);
    same(true, "1", "c", "alice", 1_800_000_000L, 25.0, List.of());
  }

  @Test
  @DisplayName("escapes, every control character, DEL, non-ASCII text; strings with surrogates take the general path")
  void strings() {
    StringBuilder controls = new StringBuilder();
    for (char c = 0; c < 0x20; c++) controls.append(c);
    controls.append('\u007f').append("\"\\/'<>&");
    same(true, controls.toString(), "c", "alice", 1_800_000_000L, 25.0, LAZY);
    same(true, "1", "c", "ünïcödé ß € 中文 \u0800 \u07ff \uffff \u2028 \ufeff", 1_800_000_000L, 25.0, LAZY);
    same(true, "", "", "", 1_800_000_000L, 25.0, List.of(new Outcome("", null, true, 0, "", null)));
    same(false, "1", "c", "emoji \uD83D\uDE00", 1_800_000_000L, 25.0, LAZY);
    same(false, "\uD800", "c", "alice", 1_800_000_000L, 25.0, LAZY); // a lone surrogate: as databind does (or refuses)
    same(true, "x".repeat(20_000), "c", "alice\n\"quoted\"", 1_800_000_000L, 25.0, LAZY); // grows the scratch
    same(true, "1", "c", "alice", 1_800_000_000L, 25.0, LAZY); // and it still answers after growing
  }

  @Test
  @DisplayName("numbers: the largest offset, ping intervals in every shape Double.toString has")
  void numbers() {
    List<Outcome> big = List.of(new Outcome("user:a", null, true, Long.MAX_VALUE, "e", true),
        new Outcome("news", null, false, 0, null, false), new Outcome("n2", null, true, 0, null, null));
    same(true, "1", "c", "a", 1_800_000_000L, 25.0, big);
    for (double ping : new double[] {0.0, 0.001, 0.0001, 1.0, 0.5, 12.345, 1e7, 1.0e-10, 123456789.125, Double.MIN_VALUE}) {
      same(true, "1", "c", "a", 1_800_000_000L, ping, LAZY);
    }
  }

  @Test
  @DisplayName("a failed personal channel (an error object) takes the general path, with the same bytes")
  void failedOutcome() {
    same(false, "1", "c", "a", 1_800_000_000L, 25.0,
        List.of(new Outcome("user:a", new ServiceError(ErrorCode.UNAVAILABLE, "store \"down\""), false, 0, null, null)));
  }

  @Test
  @DisplayName("expiresAt equals Instant.toString at the bounds of the 4-digit years, around them and at random")
  void expiries() {
    long[] fixed = {0, 1, 59, 60, 86_399, 86_400, -1, ConnectReply.YEAR_0, ConnectReply.YEAR_0 - 1, ConnectReply.YEAR_0 + 1,
        ConnectReply.MAX_4_DIGIT_YEAR, ConnectReply.MAX_4_DIGIT_YEAR + 1, 951_782_400L /* 2000-02-29 */, 4_107_542_400L /* 2100-03-01 */,
        Long.MAX_VALUE / 1000 > Instant.MAX.getEpochSecond() ? Instant.MAX.getEpochSecond() : 0, Instant.MIN.getEpochSecond()};
    for (long exp : fixed) same(true, "1", "c", "a", exp, 25.0, LAZY);
    SplittableRandom r = new SplittableRandom(14);
    for (int i = 0; i < 20_000; i++) {
      long exp = r.nextLong(ConnectReply.YEAR_0 - 86_400L * 400, ConnectReply.MAX_4_DIGIT_YEAR + 86_400L * 400);
      byte[] direct = ConnectReply.direct(null, "c", "a", exp, 25.0, List.of());
      String json = new String(direct, StandardCharsets.UTF_8);
      assertEquals(Instant.ofEpochSecond(exp).toString(), new JsonObject(json).getJsonObject("result").getString("expiresAt"));
    }
  }
}
