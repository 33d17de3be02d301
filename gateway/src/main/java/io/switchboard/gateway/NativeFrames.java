package io.switchboard.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

/**
 * Server → client frames of native protocol v1 (protocol.md).
 *
 * <p>Encode once: a publication is turned into the complete bytes of a WebSocket text frame — header and JSON
 * payload — exactly once, and those bytes go to every subscriber. Server frames are not masked (RFC 6455 5.1), so
 * they are identical for every connection; each write takes a duplicate of an unreleasable buffer (no copy, no
 * re-encoding, nothing to free).
 */
final class NativeFrames {
  private NativeFrames() {}

  /** The wire bytes of one unmasked, final text frame; shareable across connections of any event loop. */
  static final class Encoded {
    private final ByteBuf wire;

    Encoded(Buffer json) {
      ByteBuf payload = ((BufferInternal) json).getByteBuf();
      int len = payload.readableBytes();
      ByteBuf b = Unpooled.buffer(len + 10);
      b.writeByte(0x81); // FIN + text
      if (len < 126) {
        b.writeByte(len);
      } else if (len <= 0xFFFF) {
        b.writeByte(126).writeShort(len);
      } else {
        b.writeByte(127).writeLong(len);
      }
      b.writeBytes(payload, payload.readerIndex(), len);
      this.wire = Unpooled.unreleasableBuffer(b);
    }

    /** A view of the frame's bytes for one write: neither copies nor frees them. */
    ByteBuf wire() {
      return wire.duplicate();
    }

    int size() {
      return wire.readableBytes();
    }
  }

  static Encoded encode(JsonObject frame) {
    return new Encoded(frame.toBuffer());
  }

  static Encoded event(Publication p) {
    JsonObject f = new JsonObject().put("type", "event");
    f.mergeIn(p.toJson());
    return encode(f);
  }

  static JsonObject response(String id, Object result) {
    return new JsonObject().put("type", "response").put("id", id).put("result", result);
  }

  static JsonObject errorResponse(String id, ServiceError e) {
    if (id == null) return error(e);
    return new JsonObject().put("type", "response").put("id", id).put("error", e.toJson());
  }

  static JsonObject error(ServiceError e) {
    return new JsonObject().put("type", "error").put("error", e.toJson());
  }

  static JsonObject unsubscribed(String channel, String reason) {
    return new JsonObject().put("type", "unsubscribed").put("channel", channel).put("reason", reason);
  }

  static JsonObject disconnect(int code, String reason, boolean reconnect) {
    return new JsonObject().put("type", "disconnect").put("code", code).put("reason", reason).put("reconnect", reconnect);
  }

  static final Encoded PONG = encode(new JsonObject().put("type", "pong"));
}
