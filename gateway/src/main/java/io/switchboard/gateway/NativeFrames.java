package io.switchboard.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

/**
 * Server → client frames of native protocol v1 (protocol.md). An event frame is encoded once per publication and
 * the same bytes are written to every subscriber: {@link Encoded} wraps them in an unreleasable buffer so each
 * write takes a cheap duplicate instead of re-encoding or copying.
 */
final class NativeFrames {
  private NativeFrames() {}

  /** UTF-8 JSON of one text frame, shareable across connections of any event loop. */
  static final class Encoded {
    private final ByteBuf bytes;

    Encoded(Buffer json) {
      this.bytes = Unpooled.unreleasableBuffer(((BufferInternal) json).getByteBuf());
    }

    /** A frame over the shared bytes: writing it neither copies nor frees them. */
    WebSocketFrame frame() {
      return new WebSocketFrameImpl(WebSocketFrameType.TEXT, bytes.duplicate(), true);
    }

    int size() {
      return bytes.readableBytes();
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
