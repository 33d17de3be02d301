package io.switchboard.gateway.protocol.nativev1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.switchboard.common.Publication;
import io.switchboard.common.App;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.SessionProtocol;
import io.switchboard.gateway.core.Subscriptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * Native protocol v1 on the receive-only HTTP transports. NDJSON streams and long-polls use {@link NativeDialect}
 * itself (one JSON message per line); Server-Sent Events use {@link #SSE}, the same messages as SSE fields with an
 * {@code id:} line on every stored publication.
 *
 * <p>The SSE id is a position the server resumes from: {@code <offset>:<epoch>:<channel>} (offsets are digits,
 * epochs hex, so the channel is everything after the second colon). It depends only on the publication, so the
 * block is still encoded once per publication and shared by every stream ({@link
 * io.switchboard.gateway.transport.Framing#SSE_EVENT} adds the blank line and makes it an HTTP chunk).
 */
public final class NativeStreams {
  private NativeStreams() {}

  /** The SSE flavour of the native dialect (same frame-cache codec: the framing keeps its bytes apart). */
  public static final SessionProtocol SSE = new Sse();

  /** The resume position of a stored publication, as written in SSE ids and accepted by {@code since}. */
  public static String position(long offset, String epoch, String channel) {
    return offset + ":" + epoch + ":" + channel;
  }

  /** Sends a native message to a stream session, in the session's own encoding (SSE block or JSON line). */
  public static void send(Session s, JsonObject message) {
    if (s.protocol() == SSE) {
      ByteBuf b = block(null, message);
      s.sendPayload(b);
      b.release();
    } else {
      NativeDialect.send(s, message);
    }
  }

  /** The per-channel subscribe outcome as native JSON. */
  public static JsonObject outcomes(Subscriptions.Established est) {
    return new JsonObject().put("type", "subscribed").put("channels", NativeRequests.outcomes(est));
  }

  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ID = "id: ".getBytes(StandardCharsets.US_ASCII);

  /** {@code id: <id>\n} (when an id is given) then {@code data: <json>\n}; compact JSON holds no raw newline. */
  private static ByteBuf block(String id, JsonObject message) {
    ByteBuf json = NativeFrames.payload(message);
    try {
      return block(id, json);
    } finally {
      json.release();
    }
  }

  private static ByteBuf block(String id, ByteBuf json) {
    int len = json.readableBytes();
    ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(len + 16 + (id == null ? 0 : id.length() + 8));
    if (id != null) b.writeBytes(ID).writeCharSequence(id, StandardCharsets.UTF_8);
    if (id != null) b.writeByte('\n');
    b.writeBytes(DATA).writeBytes(json, json.readerIndex(), len).writeByte('\n');
    return b;
  }

  private static final class Sse implements SessionProtocol {
    @Override
    public int codecId() {
      return NativeDialect.CODEC_ID;
    }

    @Override
    public void onText(Session s, String text) {
      // receive-only: nothing arrives from the client on an event stream
    }

    @Override
    public void onBinary(Session s, int bytes) {
      // receive-only
    }

    @Override
    public ByteBuf encodePublication(Publication p) {
      ByteBuf json = NativeFrames.event(p);
      try {
        return block(p.stored() ? position(p.offset(), p.epoch(), App.local(p.channel())) : null, json);
      } finally {
        json.release();
      }
    }

    @Override
    public void unsubscribed(Session s, String channel, String reason) {
      send(s, NativeFrames.unsubscribed(channel, reason));
    }

    @Override
    public void subscribed(Session s, Subscriptions.Outcome outcome) {
      send(s, NativeRequests.outcome(outcome).put("type", "subscribed"));
    }

    @Override
    public int closeCode(Disconnect d) {
      return NativeDialect.INSTANCE.closeCode(d);
    }

    @Override
    public ByteBuf goodbye(Disconnect d, int code, String text) {
      return block(null, NativeFrames.disconnect(code, text, d.reconnect));
    }

    @Override
    public long pingIntervalMs(GatewayConfig cfg) {
      return cfg.pingIntervalMs();
    }

    @Override
    public void ping(Session s) {
      s.transport.ping();
    }
  }
}
