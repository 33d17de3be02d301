package io.switchboard.gateway.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pre-encoded frames are real WebSocket frames: Netty's client-side decoder (unmasked server frames) reads them
 * back at every length-encoding boundary (7-bit, 16-bit and 64-bit lengths).
 */
class WebSocketFramingTest {
  @ParameterizedTest
  @ValueSource(ints = {0, 100, 125, 126, 127, 1000, 65535, 65536, 200_000})
  void encodedFrameDecodesToTheSameJson(int padding) {
    JsonObject json = new JsonObject().put("type", "event").put("pad", "x".repeat(padding));
    ByteBuf payload = ((io.vertx.core.internal.buffer.BufferInternal) json.toBuffer()).getByteBuf();
    Encoded e = Encoded.frame(Framing.WEBSOCKET_TEXT, payload);
    payload.release();
    // decoder as a client sees server frames: unmasked allowed, large frames allowed
    EmbeddedChannel ch = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
    ByteBuf wire = e.wire();
    assertEquals(e.size(), wire.readableBytes());
    assertTrue(ch.writeInbound(wire));
    TextWebSocketFrame f = ch.readInbound();
    assertEquals(json, new JsonObject(f.text()));
    f.release();
    // the shared bytes are untouched by a write; every write holds its own reference until Netty releases it
    ByteBuf second = e.wire();
    assertEquals(e.size(), second.readableBytes());
    second.release();
    e.release();
    assertEquals(0, second.refCnt());
  }
}
