package io.switchboard.gateway;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.switchboard.common.CloseCode;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * One client connection: its socket, who it is, what it is subscribed to, and its limits. Confined to the event
 * loop that accepted it.
 *
 * <p>Outbound queue invariant: what the client has not yet read is bounded by {@code maxQueueBytes} (Netty's
 * pending-bytes count, made the socket's write-queue high-water mark). Crossing it disconnects the client with 4500
 * at once: a broadcast never waits for a slow reader, and the client recovers from history.
 */
final class ClientConnection {
  final String id;
  final ServerWebSocket socket;
  final long openedAt;
  private final GatewayMetrics metrics;
  Claims claims;
  final Map<String, Subscription> subscriptions = new HashMap<>(4);

  /** Last time anything arrived from the client (a frame or a pong), for liveness. */
  long lastSeen;
  /** When the outstanding ping was sent, 0 when none is outstanding. */
  long pingSentAt;
  long nextPingAt;
  boolean closing;
  /** When the server started closing this connection; 0 when it did not (or has already cut it). */
  private long closingSince;
  static final long CLOSE_GRACE_MS = 1000;
  /** Connected and its connect answer sent (subscriptions allowed). */
  boolean connected;
  boolean connecting;

  // publish rate limit: token bucket
  private double tokens;
  private long tokensAt;
  // protocol violations in the current window
  private int violations;
  private long violationWindowStart;

  /** Netty's context of the socket: where encoded frames are written. */
  private final ChannelHandlerContext pipeline;
  private final Flusher flusher;
  /** Written since the last flush (owned by the {@link Flusher}). */
  boolean dirty;

  ClientConnection(String id, ServerWebSocket socket, long now, int burst, GatewayMetrics metrics, Flusher flusher) {
    this.id = id;
    this.metrics = metrics;
    this.socket = socket;
    ChannelHandlerContext vertxCtx = ((WebSocketInternal) socket).channelHandlerContext();
    // write from the WebSocket encoder's place: our ByteBufs are whole frames already, so they start their way to the
    // socket below the encoder (anything below it — TLS — still applies); Vert.x's own writes pass the encoder and
    // meet ours in call order, all on this event loop
    ChannelHandlerContext encoderCtx = vertxCtx.pipeline().context(WebSocketFrameEncoder.class);
    this.pipeline = encoderCtx != null ? encoderCtx : vertxCtx;
    this.flusher = flusher;
    this.openedAt = now;
    this.lastSeen = now;
    this.tokens = burst;
    this.tokensAt = now;
  }

  String subject() {
    return claims == null ? null : claims.subject();
  }

  /**
   * This connection's presence changes, in order: each join/leave waits for the previous one's answer, so with
   * several presence-service instances a quick leave can never overtake its join and leave a ghost member.
   */
  private Future<?> presenceChain = Future.succeededFuture();

  void presence(EventBus bus, String address, JsonObject change) {
    presenceChain = presenceChain.transform(ar -> bus.request(address, change, PRESENCE_DELIVERY));
  }

  private static final DeliveryOptions PRESENCE_DELIVERY = new DeliveryOptions().setSendTimeout(5_000);

  /**
   * Queues an encoded frame; a client past its queue bound is disconnected as a slow consumer.
   *
   * <p>The hot path: the frame's shared wire bytes are written straight to the socket's Netty pipeline (below
   * Vert.x's per-write promise and frame object; a ByteBuf passes the WebSocket encoders untouched) without a
   * flush; the {@link Flusher} flushes every written socket once when the event loop has run what is queued, so a
   * burst of publications costs one syscall per socket, not one per publication. Always on this connection's
   * event loop, so these writes stay in order with Vert.x's own (responses, close frames).
   */
  void sendEvent(NativeFrames.Encoded frame) {
    if (closing) return;
    Channel ch = pipeline.channel();
    if (!ch.isOpen()) {
      // closed by the client; our close handler runs next on this loop
      closing = true;
      return;
    }
    pipeline.write(frame.wire(), pipeline.voidPromise());
    if (ch.isWritable()) {
      flusher.dirty(this);
      return;
    }
    // past the bound: what we held back for coalescing must not count against the client, so try to send it first;
    // only bytes the socket would not take are the client's backlog
    flush();
    if (!ch.isWritable()) slowConsumer();
  }

  /** Called by the flusher. */
  void flush() {
    dirty = false;
    pipeline.flush();
  }

  void send(JsonObject frame) {
    NativeFrames.Encoded e = NativeFrames.encode(frame);
    sendEvent(e);
    e.release();
  }

  private void slowConsumer() {
    disconnect(CloseCode.SLOW_CONSUMER, "slow consumer");
  }

  /**
   * Sends a disconnect frame then the close frame with the same code. The close is bounded: a client that reads
   * nothing any more (a slow consumer) cannot hold the socket open — the sweep cuts the TCP connection once
   * {@link #CLOSE_GRACE_MS} have passed (see {@link #forceCloseIfLingering}).
   */
  void disconnect(short code, String reason) {
    if (closing) return;
    closing = true;
    closingSince = System.currentTimeMillis();
    metrics.disconnect(code);
    if (!pipeline.channel().isOpen()) return;
    NativeFrames.Encoded bye = NativeFrames.encode(NativeFrames.disconnect(code, reason, CloseCode.reconnect(code)));
    pipeline.writeAndFlush(bye.wire(), pipeline.voidPromise());
    bye.release();
    socket.close(code, closeReason(reason));
  }

  /** A close frame's reason is limited to 123 bytes (RFC 6455 5.5); the disconnect frame carries the full text. */
  static String closeReason(String reason) {
    if (reason.length() <= 40) return reason;
    StringBuilder b = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < reason.length(); i++) {
      char ch = reason.charAt(i);
      int n = ch < 0x80 ? 1 : ch < 0x800 ? 2 : 3;
      if (Character.isSurrogate(ch) || bytes + n > 120) break;
      b.append(ch);
      bytes += n;
    }
    return b.toString();
  }

  /** Cuts the connection of a client that did not complete the close handshake within the grace period. */
  void forceCloseIfLingering(long now) {
    if (closing && closingSince > 0 && now - closingSince >= CLOSE_GRACE_MS) {
      closingSince = 0;
      pipeline.channel().close();
    }
  }

  /**
   * Takes one publish token; returns 0 when allowed, else the milliseconds until the next token.
   */
  long takePublishToken(long now, double ratePerSecond, int burst) {
    tokens = Math.min(burst, tokens + (now - tokensAt) * ratePerSecond / 1000.0);
    tokensAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.max(1, (long) Math.ceil((1 - tokens) * 1000.0 / ratePerSecond));
  }

  /** Counts a protocol violation; true when the limit for the window is exceeded (then close 4002). */
  boolean violation(long now, int limit, long windowMs) {
    if (now - violationWindowStart > windowMs) {
      violationWindowStart = now;
      violations = 0;
    }
    return ++violations >= limit;
  }
}
