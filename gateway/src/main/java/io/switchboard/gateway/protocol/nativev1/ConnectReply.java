package io.switchboard.gateway.protocol.nativev1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.gateway.core.Subscriptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;

/**
 * The connect answer of native protocol v1, written straight to bytes: {@code {"type":"response","id":…,"result":R}}
 * (a {@code connect} request) or {@code {"type":"connected","result":R}} (a bearer-header connect), where R is
 * {@code {"client","subject","expiresAt","pingInterval","subscriptions":[{"channel","ok","offset"?,"epoch"?,
 * "recovered"?}…]}}.
 *
 * <p>Why: every connect sends one, and building the JsonObject tree and serialising it through Jackson databind (which
 * Vert.x uses for every {@code toBuffer} while databind is on the class path) cost more than the rest of the answer.
 *
 * <p>Invariant: the bytes are exactly those of {@link #tree}{@code .toBuffer()} — same key order, Jackson's escaping
 * ({@code \"}, {@code \\}, {@code \b \t \n \f \r}, other control characters as a six-character u00XX escape in upper-case hex,
 * everything else as UTF-8), {@link Double#toString} for the ping interval, {@link Instant#toString} for the expiry.
 * Where that would take care to match (a string with a surrogate — Jackson refuses a lone one — or a failed
 * subscription, whose error object is open-ended) the answer goes through {@link #tree} instead. ConnectReplyTest
 * compares both for tricky values.
 */
final class ConnectReply {
  private ConnectReply() {}

  /** A per-thread scratch array; the answer is copied out of it (every event loop encodes one answer at a time). */
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[512]);

  /**
   * The answer's JSON bytes (the caller releases them).
   *
   * @param id the request id, or null for the {@code connected} push
   * @param outcomes the personal channel's outcomes (empty when it could not be set up)
   */
  static ByteBuf encode(String id, String client, String subject, long exp, double pingInterval,
      List<Subscriptions.Outcome> outcomes) {
    byte[] out = direct(id, client, subject, exp, pingInterval, outcomes);
    if (out != null) return Unpooled.wrappedBuffer(out);
    return NativeFrames.payload(tree(id, client, subject, exp, pingInterval, outcomes));
  }

  /** The same answer as a JsonObject (the general path, and the reference the direct bytes must equal). */
  static JsonObject tree(String id, String client, String subject, long exp, double pingInterval,
      List<Subscriptions.Outcome> outcomes) {
    JsonArray subs = new JsonArray();
    for (Subscriptions.Outcome o : outcomes) subs.add(NativeRequests.outcome(o));
    JsonObject result = new JsonObject()
        .put("client", client)
        .put("subject", subject)
        .put("expiresAt", Instant.ofEpochSecond(exp).toString())
        .put("pingInterval", pingInterval)
        .put("subscriptions", subs);
    return id != null ? NativeFrames.response(id, result) : new JsonObject().put("type", "connected").put("result", result);
  }

  /** The direct bytes, or null where the general path must write them. */
  static byte[] direct(String id, String client, String subject, long exp, double pingInterval,
      List<Subscriptions.Outcome> outcomes) {
    for (Subscriptions.Outcome o : outcomes) if (!o.ok()) return null;
    Writer w = new Writer(SCRATCH.get());
    if (id != null) {
      w.ascii("{\"type\":\"response\",\"id\":");
      if (!w.string(id)) return null;
      w.ascii(",\"result\":{\"client\":");
    } else {
      w.ascii("{\"type\":\"connected\",\"result\":{\"client\":");
    }
    if (!w.string(client)) return null;
    w.ascii(",\"subject\":");
    if (!w.string(subject)) return null;
    w.ascii(",\"expiresAt\":\"");
    w.instant(exp);
    w.ascii("\",\"pingInterval\":");
    w.ascii(Double.toString(pingInterval));
    w.ascii(",\"subscriptions\":[");
    for (int i = 0; i < outcomes.size(); i++) {
      Subscriptions.Outcome o = outcomes.get(i);
      w.ascii(i == 0 ? "{\"channel\":" : ",{\"channel\":");
      if (!w.string(o.channel())) return null;
      w.ascii(",\"ok\":true");
      if (o.stored()) {
        w.ascii(",\"offset\":");
        w.ascii(Long.toString(o.offset()));
        w.ascii(",\"epoch\":");
        if (!w.string(o.epoch())) return null;
      }
      if (o.recovered() != null) w.ascii(o.recovered() ? ",\"recovered\":true" : ",\"recovered\":false");
      w.ascii("}");
    }
    w.ascii("]}}");
    if (w.buf.length > SCRATCH.get().length && w.buf.length <= 64 * 1024) SCRATCH.set(w.buf); // keep a grown one, bounded
    return Arrays.copyOf(w.buf, w.len);
  }

  /** Upper-case hex digits, as Jackson writes a six-character u00XX escape. */
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static final class Writer {
    byte[] buf;
    int len;

    Writer(byte[] buf) {
      this.buf = buf;
    }

    private void room(int n) {
      if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
    }

    /** Text known to be ASCII with nothing to escape (the fixed parts, numbers). */
    void ascii(String s) {
      int n = s.length();
      room(n);
      for (int i = 0; i < n; i++) buf[len++] = (byte) s.charAt(i);
    }

    /** A JSON string (null as {@code null}); false if it holds a surrogate (left to the general path). */
    boolean string(String s) {
      if (s == null) {
        ascii("null");
        return true;
      }
      int n = s.length();
      room(n * 6 + 2); // the longest escape (backslash u00XX) is 6 bytes; a UTF-8 char at most 3 (no surrogates here)
      buf[len++] = '"';
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          if (c >= 0x20 && c != '"' && c != '\\') {
            buf[len++] = (byte) c;
            continue;
          }
          buf[len++] = '\\';
          switch (c) {
            case '"' -> buf[len++] = '"';
            case '\\' -> buf[len++] = '\\';
            case '\b' -> buf[len++] = 'b';
            case '\t' -> buf[len++] = 't';
            case '\n' -> buf[len++] = 'n';
            case '\f' -> buf[len++] = 'f';
            case '\r' -> buf[len++] = 'r';
            default -> {
              buf[len++] = 'u';
              buf[len++] = '0';
              buf[len++] = '0';
              buf[len++] = HEX[c >> 4];
              buf[len++] = HEX[c & 0xF];
            }
          }
        } else if (c < 0x800) {
          buf[len++] = (byte) (0xC0 | (c >> 6));
          buf[len++] = (byte) (0x80 | (c & 0x3F));
        } else if (Character.isSurrogate(c)) {
          return false;
        } else {
          buf[len++] = (byte) (0xE0 | (c >> 12));
          buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
          buf[len++] = (byte) (0x80 | (c & 0x3F));
        }
      }
      buf[len++] = '"';
      return true;
    }

    /**
     * {@link Instant#toString} of whole epoch seconds: {@code yyyy-MM-ddTHH:mm:ssZ} for years 0000–9999 (the seconds
     * always written, never a fraction); other years as Instant writes them.
     */
    void instant(long epochSeconds) {
      if (epochSeconds < YEAR_0 || epochSeconds > MAX_4_DIGIT_YEAR) {
        ascii(Instant.ofEpochSecond(epochSeconds).toString());
        return;
      }
      LocalDate d = LocalDate.ofEpochDay(Math.floorDiv(epochSeconds, 86_400L));
      int sod = (int) Math.floorMod(epochSeconds, 86_400L);
      room(20);
      digits(d.getYear(), 4);
      buf[len++] = '-';
      digits(d.getMonthValue(), 2);
      buf[len++] = '-';
      digits(d.getDayOfMonth(), 2);
      buf[len++] = 'T';
      digits(sod / 3600, 2);
      buf[len++] = ':';
      digits(sod / 60 % 60, 2);
      buf[len++] = ':';
      digits(sod % 60, 2);
      buf[len++] = 'Z';
    }

    private void digits(int v, int width) {
      for (int i = width - 1; i >= 0; i--) {
        buf[len + i] = (byte) ('0' + v % 10);
        v /= 10;
      }
      len += width;
    }
  }

  /** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in epoch seconds. */
  static final long YEAR_0 = -62_167_219_200L;
  static final long MAX_4_DIGIT_YEAR = 253_402_300_799L;
}
