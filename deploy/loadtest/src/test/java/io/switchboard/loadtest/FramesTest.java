package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class FramesTest {
  @Test
  void payloadCarriesStampSequenceAndRequestedSize() {
    String data = Frames.payload(1_700_000_000_123_456L, 42, 100);
    JsonObject j = new JsonObject(data);
    assertEquals(1_700_000_000_123_456L, j.getLong("_ts"));
    assertEquals(42, j.getLong("_s"));
    assertEquals(100, data.length());
    // never shorter than its fields
    assertTrue(Frames.payload(1, 1, 5).length() > 5);
  }

  @Test
  void readsFieldsOfANativeEventWithoutParsing() {
    String data = Frames.payload(123_456_789L, 7, 80);
    Buffer frame = Buffer.buffer("{\"type\":\"event\",\"channel\":\"bench:a-0\",\"event\":\"lt\",\"id\":\"01K\",\"offset\":17,"
        + "\"epoch\":\"9a1c\",\"timestamp\":\"2026-11-21T10:30:00.123Z\",\"data\":" + data + "}");
    assertTrue(Frames.startsWith(frame, NativeProtocol.EVENT_PREFIX));
    assertEquals(17, Frames.longValue(frame, Frames.OFFSET));
    assertEquals(123_456_789L, Frames.longValue(frame, Frames.TS));
    assertEquals(7, Frames.longValue(frame, Frames.SEQ));
    assertEquals("9a1c", Frames.stringValue(frame, Frames.EPOCH));
  }

  @Test
  void absentOrMalformedFieldsReadAsMinusOne() {
    Buffer response = Buffer.buffer("{\"type\":\"response\",\"id\":\"3\",\"result\":{}}");
    assertFalse(Frames.startsWith(response, NativeProtocol.EVENT_PREFIX));
    assertEquals(-1, Frames.longValue(response, Frames.OFFSET));
    assertEquals(-1, Frames.longValue(Buffer.buffer("{\"offset\":\"x\"}"), Frames.OFFSET));
    assertEquals(-1, Frames.longValue(Buffer.buffer("{\"offset\":"), Frames.OFFSET));
  }

  @Test
  void socketIoEventCarriesTheSameFields() {
    Buffer frame = Buffer.buffer("42[\"m\"," + Frames.payload(99, 3, 60) + "]");
    assertEquals(99, Frames.longValue(frame, Frames.TS));
    assertEquals(3, Frames.longValue(frame, Frames.SEQ));
  }
}
