package io.switchboard.gateway.protocol.nativev1;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.common.App;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

/** Server → client messages of native protocol v1 (docs/protocol.md), as JSON payloads. */
final class NativeFrames {
  private NativeFrames() {}

  /** The JSON bytes of a message (the caller releases them). */
  static ByteBuf payload(JsonObject frame) {
    return ((BufferInternal) frame.toBuffer()).getByteBuf();
  }

  /** An {@code event} message: every field of the publication that is set, with the app-local channel name. */
  static ByteBuf event(Publication p) {
    JsonObject f = p.toJson(new JsonObject().put("type", "event"));
    String channel = p.channel();
    if (channel != null && channel.indexOf('~') >= 0) f.put("channel", App.local(channel));
    return payload(f);
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

  /** {"type":"pong"} as a WebSocket frame, kept for the JVM's lifetime. */
  static final Encoded PONG = pong();

  private static Encoded pong() {
    ByteBuf p = payload(new JsonObject().put("type", "pong"));
    Encoded e = Encoded.frame(Framing.WEBSOCKET_TEXT, p).permanent();
    p.release();
    return e;
  }
}
