package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * WebSocket framing at and past every bound, byte by byte: a message up to the frame limit is served, one byte more
 * closes with 1009, and every RFC 6455 violation closes with its code (1002 framing, 1007 invalid UTF-8) — always
 * with the {@code disconnect} message and a close frame first, never a bare TCP close.
 */
class FramingTest {
  private static final TestServer s = SharedServer.get();
  /** The default gateway.maxFrameBytes. */
  private static final int LIMIT = 65536;

  /** A ping message of exactly {@code bytes} bytes. */
  private static byte[] ping(int bytes) {
    String head = "{\"type\":\"ping\",\"pad\":\"";
    String tail = "\"}";
    return (head + "x".repeat(bytes - head.length() - tail.length()) + tail).getBytes(StandardCharsets.UTF_8);
  }

  private static void assertPong(RawWs ws) throws Exception {
    RawWs.Frame f = ws.read();
    assertNotNull(f, "connection closed instead of answering");
    assertEquals(1, f.opcode(), "expected a text frame");
    assertEquals("pong", new JsonObject(f.text()).getString("type"));
  }

  /** The disconnect message with the code, then the close frame with the same code. */
  private static void assertClosedWith(RawWs ws, int code) throws Exception {
    RawWs.Frame f = ws.read();
    assertNotNull(f, "bare TCP close: no disconnect message");
    assertEquals(1, f.opcode(), "expected the disconnect message first");
    JsonObject bye = new JsonObject(f.text());
    assertEquals("disconnect", bye.getString("type"));
    assertEquals(code, bye.getInteger("code"));
    assertEquals(false, bye.getBoolean("reconnect"));
    RawWs.Frame close = ws.read();
    assertNotNull(close, "bare TCP close: no close frame");
    assertEquals(8, close.opcode());
    assertEquals(code, close.closeCode());
  }

  @Test
  void aMessageOfExactlyTheLimitIsServedAndOneByteMoreCloses1009() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      ws.sendFrame(0x81, ping(LIMIT));
      assertPong(ws);
      ws.sendFrame(0x81, ping(LIMIT + 1));
      assertClosedWith(ws, 1009);
    }
  }

  @Test
  void aHeaderAnnouncingAHugeFrameClosesAtOnceWith1009() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      ws.sendFrame(0x81, true, new byte[0], 200_000);
      assertClosedWith(ws, 1009);
    }
  }

  @Test
  void fragmentsAreReassembledUpToTheLimitAndCutPastIt() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      byte[] whole = ping(LIMIT);
      int half = LIMIT / 2;
      ws.sendFrame(0x01, java.util.Arrays.copyOfRange(whole, 0, half)); // text, not final
      ws.sendFrame(0x80, java.util.Arrays.copyOfRange(whole, half, whole.length)); // continuation, final
      assertPong(ws);
      byte[] chunk = new byte[30_000];
      java.util.Arrays.fill(chunk, (byte) 'x');
      ws.sendFrame(0x01, chunk);
      ws.sendFrame(0x00, chunk);
      ws.sendFrame(0x00, chunk); // 90,000 bytes so far: over the limit before the message ends
      assertClosedWith(ws, 1009);
    }
  }

  @Test
  void anUnmaskedClientFrameCloses1002() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      byte[] p = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
      ws.sendFrame(0x81, false, p, p.length);
      assertClosedWith(ws, 1002);
    }
  }

  @Test
  void reservedBitsClose1002() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      ws.sendFrame(0x81 | 0x40, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
      assertClosedWith(ws, 1002);
    }
  }

  @Test
  void anUnknownOpcodeCloses1002() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      ws.sendFrame(0x83, "{}".getBytes(StandardCharsets.UTF_8));
      assertClosedWith(ws, 1002);
    }
  }

  @Test
  void aContinuationWithoutAStartCloses1002() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      ws.sendFrame(0x80, "{}".getBytes(StandardCharsets.UTF_8));
      assertClosedWith(ws, 1002);
    }
  }

  @Test
  void invalidUtf8Closes1007() throws Exception {
    try (RawWs ws = new RawWs(s.wsPort)) {
      ws.sendFrame(0x81, new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}'});
      assertClosedWith(ws, 1007);
    }
  }
}
