package io.switchboard.gateway.http;

import io.switchboard.gateway.transport.Flusher;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.impl.ConnectionBase;
import java.nio.charset.StandardCharsets;

/**
 * A receive-only transport over one chunked HTTP response: Server-Sent Events or NDJSON streaming.
 *
 * <p>Like the WebSocket transport, the shared frame bytes are written straight into the connection's Netty pipeline
 * from Vert.x's handler (so Netty's HTTP encoder makes them chunks), without a copy, a per-write promise or a flush;
 * the loop's {@link Flusher} (the same one as its WebSockets) flushes each written stream once. Vert.x writes only the response head (before any
 * frame) and its end (after the last). The connection's write buffer is bounded by {@code maxQueueBytes}: a client
 * that lets more pile up is reported slow ({@link Listener#onOverflow}) and cut.
 *
 * <p>Pings are an SSE comment or an NDJSON ping line: a write that reaches a live socket is all the liveness a
 * receive-only stream can show (a dead one fails and closes), so a ping counts as answered at once.
 */
final class HttpStreamTransport implements Transport, Flusher.Target {
  private static final ByteBuf SSE_PING = chunk(": ping\n\n");
  private static final ByteBuf NDJSON_PING = chunk("{\"type\":\"ping\"}\n");

  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final Framing framing;
  private final Flusher flusher;
  /**
   * The HTTP encoder's context: frames are whole HTTP/1.1 chunks already ({@link Framing#SSE_EVENT},
   * {@link Framing#NDJSON_CHUNK}), so they start their way to the socket below the encoder (anything below it still
   * applies); Vert.x's own writes (the head, the last chunk) pass the encoder and meet ours in call order.
   */
  private final ChannelHandlerContext ctx;
  private Listener listener;
  /** Written since the last flush (owned by the flusher). */
  boolean dirty;
  private boolean open = true;
  private boolean overflowed;
  private boolean closedReported;

  HttpStreamTransport(HttpServerRequest request, Framing framing, int maxQueueBytes, Flusher flusher) {
    // the head must be an HTTP/1.1 chunked response: the frames are chunks
    request.response().setChunked(true);
    this.request = request;
    this.response = request.response();
    this.framing = framing;
    this.flusher = flusher;
    ChannelHandlerContext vertxCtx = ((ConnectionBase) request.connection()).channelHandlerContext();
    ChannelHandlerContext encoderCtx = vertxCtx.pipeline().context(HttpResponseEncoder.class);
    if (encoderCtx == null) throw new IllegalStateException("no HTTP/1.1 response encoder on this connection");
    this.ctx = encoderCtx;
    ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(Math.max(1, maxQueueBytes / 2), maxQueueBytes));
    response.closeHandler(v -> closed());
    response.exceptionHandler(t -> closed());
  }

  /** Starts the response: status and headers as set, then an SSE prelude (e.g. {@code retry:}) if any. */
  void start(String prelude) {
    response.writeHead();
    if (prelude != null) writeBytes(chunk(prelude));
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }

  @Override
  public Framing framing() {
    return framing;
  }

  @Override
  public boolean bidirectional() {
    return false;
  }

  @Override
  public void write(Encoded frame) {
    if (!open || overflowed) return;
    writeBytes(frame.wire());
  }

  private void writeBytes(ByteBuf b) {
    Channel ch = ctx.channel();
    if (!ch.isOpen()) {
      b.release();
      return; // closed by the client; the close handler runs next on this loop
    }
    ctx.write(b, ctx.voidPromise());
    if (ch.isWritable()) {
      flusher.dirty(this);
      return;
    }
    // past the bound: what was held back for coalescing must not count against the client, so try to send it first
    flush();
    if (!ch.isWritable()) {
      overflowed = true;
      if (listener != null) listener.onOverflow();
    }
  }

  @Override
  public boolean markDirty() {
    if (dirty) return false;
    dirty = true;
    return true;
  }

  /** Called by the flusher. */
  @Override
  public void flush() {
    dirty = false;
    ctx.flush();
  }

  @Override
  public boolean ping() {
    if (!open || overflowed) return true;
    writeBytes((framing == Framing.SSE_EVENT ? SSE_PING : NDJSON_PING).retainedDuplicate());
    if (listener != null) listener.onPong();
    return true;
  }

  @Override
  public void close(int code, String reason) {
    if (!open) return;
    if (overflowed) {
      // a client past the byte bound would not read the goodbye or the end of the response either: cut it now
      forceClose();
      return;
    }
    open = false;
    ctx.flush();
    // the goodbye was written just before: end the response behind it, then the stream's connection
    response.end().onComplete(ar -> request.connection().close());
  }

  @Override
  public void forceClose() {
    open = false;
    ctx.channel().close();
    closed();
  }

  @Override
  public boolean isOpen() {
    return open && ctx.channel().isOpen();
  }

  @Override
  public String header(String name) {
    return request.getHeader(name);
  }

  @Override
  public String remoteAddress() {
    return request.remoteAddress() == null ? null : request.remoteAddress().toString();
  }

  /** Text as one HTTP/1.1 chunk (never released: constants and one-off preludes are small). */
  private static ByteBuf chunk(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    String size = Integer.toHexString(b.length);
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer((size + "\r\n" + text + "\r\n").getBytes(StandardCharsets.UTF_8)));
  }

  void closed() {
    open = false;
    if (closedReported) return;
    closedReported = true;
    if (listener != null) listener.onClosed();
  }
}
