package io.switchboard.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
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
 * payload — exactly once, in a pooled DIRECT buffer, and those bytes go to every subscriber. Server frames are not
 * masked (RFC 6455 5.1), so they are identical for every connection; each write takes a retained duplicate (no
 * re-encoding, and no heap-to-direct copy in the socket write, which a heap buffer would cost per subscriber).
 *
 * <p>Ownership: whoever creates an {@link Encoded} releases it once it has queued its writes; each queued write
 * holds its own reference, which Netty releases when the bytes are on the socket.
 */
final class NativeFrames {
  private NativeFrames() {}

  /** The wire bytes of one unmasked, final text frame; shareable across connections of any event loop. */
  static final class Encoded {
    private final ByteBuf wire;

    Encoded(Buffer json) {
      this(json, PooledByteBufAllocator.DEFAULT);
    }

    private Encoded(Buffer json, ByteBufAllocator alloc) {
      ByteBuf payload = ((BufferInternal) json).getByteBuf();
      int len = payload.readableBytes();
      ByteBuf b = alloc.directBuffer(len + 10);
      b.writeByte(0x81); // FIN + text
      if (len < 126) {
        b.writeByte(len);
      } else if (len <= 0xFFFF) {
        b.writeByte(126).writeShort(len);
      } else {
        b.writeByte(127).writeLong(len);
      }
      b.writeBytes(payload, payload.readerIndex(), len);
      this.wire = b;
    }

    /** The frame's bytes for one write: a retained view, released by Netty once written. */
    ByteBuf wire() {
      return wire.retainedDuplicate();
    }

    /** Gives up the creator's reference (after its writes are queued). */
    void release() {
      wire.release();
    }

    /** Never released: for frames kept for the JVM's lifetime (pong). */
    Encoded permanent() {
      return new Encoded(this);
    }

    private Encoded(Encoded of) {
      this.wire = Unpooled.unreleasableBuffer(of.wire);
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

  static final Encoded PONG = encode(new JsonObject().put("type", "pong")).permanent();
}
